package account

import (
	"errors"
	"fmt"
	"strings"
)

// Outcome is how a domain call ended: one of a closed set. The faces map each outcome to their legacy
// answer in one table per face, the access log writes it and the metrics count it, all from here; a new
// outcome is added to this list (and to OutcomeOf when it is a failure), and each face's table must then
// name it (handlers' tests check that every outcome a face can meet is in its table).
type Outcome string

// The outcomes. Successes are named by the call that succeeded; failures by their error.
const (
	OutcomeCodeSent         Outcome = "code_sent"          // a reset code issued (or an unknown recipient answered alike)
	OutcomeLinkSent         Outcome = "link_sent"          // a change link issued (or an unknown user answered alike)
	OutcomePasswordReset    Outcome = "password_reset"     // a reset code consumed
	OutcomePasswordChanged  Outcome = "password_changed"   // a change request consumed
	OutcomeTokenIssued      Outcome = "token_issued"       // an r7office sign-in ended with a token
	OutcomeSecondFactor     Outcome = "second_factor"      // an r7office sign-in wants a TOTP code, or a phone
	OutcomeLoginCodeSent    Outcome = "login_code_sent"    // an r7office SMS code sent (sign-in, setphone, sendsms)
	OutcomeTokenIntrospect  Outcome = "token_introspected" // a token checked by introspection
	OutcomeNoRecipient      Outcome = "no_recipient"
	OutcomeRateLimited      Outcome = "rate_limited"
	OutcomeInvalidAPIKey    Outcome = "invalid_api_key"
	OutcomeCodeRejected     Outcome = "code_rejected"
	OutcomeChangeNotFound   Outcome = "change_request_not_found"
	OutcomeChangeExpired    Outcome = "change_request_expired"
	OutcomePasswordUsed     Outcome = "password_used_before"
	OutcomePolicy           Outcome = "password_policy"
	OutcomeBusy             Outcome = "busy"
	OutcomeAuthFailed       Outcome = "auth_failed"
	OutcomeSignInBlocked    Outcome = "signin_blocked"
	OutcomePhoneTaken       Outcome = "phone_taken"
	OutcomePhoneEmpty       Outcome = "phone_empty"
	OutcomePhoneConfirmed   Outcome = "phone_confirmed"
	OutcomeSMSNotEnabled    Outcome = "sms_not_enabled"
	OutcomeNoPhone          Outcome = "no_phone"
	OutcomeNotFound         Outcome = "not_found" // an admin lookup
	OutcomeConflict         Outcome = "conflict"  // an admin write refused: a unique value another record holds
	OutcomeError            Outcome = "error"     // anything else: storage, a timeout, a bug
	OutcomeBadRequest       Outcome = "bad_request"
	OutcomeRouteNotFound    Outcome = "route_not_found"
	OutcomeMethodNotAllowed Outcome = "method_not_allowed"
	OutcomePreflight        Outcome = "preflight"      // an OPTIONS request answered (r7office)
	OutcomeNotServed        Outcome = "not_served"     // a legacy route aspgate refuses as the legacy host would (r7office login, register)
	OutcomeDocument         Outcome = "document"       // a Help page, its stylesheet or the OpenAPI document served
	OutcomeMirrorRefused    Outcome = "mirror_refused" // a request mirrored by aspgate shadow, refused by a server that delivers
)

// Outcomes lists every outcome, for metrics that start each series at zero.
func Outcomes() []Outcome {
	return []Outcome{OutcomeCodeSent, OutcomeLinkSent, OutcomePasswordReset, OutcomePasswordChanged, OutcomeTokenIssued,
		OutcomeSecondFactor, OutcomeLoginCodeSent, OutcomeTokenIntrospect, OutcomeNoRecipient, OutcomeRateLimited,
		OutcomeInvalidAPIKey, OutcomeCodeRejected, OutcomeChangeNotFound, OutcomeChangeExpired, OutcomePasswordUsed,
		OutcomePolicy, OutcomeBusy, OutcomeAuthFailed, OutcomeSignInBlocked, OutcomePhoneTaken, OutcomePhoneEmpty,
		OutcomePhoneConfirmed, OutcomeSMSNotEnabled, OutcomeNoPhone, OutcomeNotFound, OutcomeConflict, OutcomeError, OutcomeBadRequest,
		OutcomeRouteNotFound, OutcomeMethodNotAllowed, OutcomePreflight, OutcomeNotServed, OutcomeDocument, OutcomeMirrorRefused}
}

// Error is a domain failure: its outcome, and the failure it refines, if any (ErrSignInBlocked is an
// ErrAuthFailed).
type Error struct {
	Outcome Outcome
	msg     string
	parent  error
}

func (e *Error) Error() string { return e.msg }

// Unwrap lets errors.Is find the failure this one refines.
func (e *Error) Unwrap() error { return e.parent }

func newError(o Outcome, msg string) *Error { return &Error{Outcome: o, msg: "account: " + msg} }

func refine(parent *Error, o Outcome, msg string) *Error {
	return &Error{Outcome: o, msg: parent.msg + ": " + msg, parent: parent}
}

// ErrConflict is a write refused because another record holds one of its unique values.
var ErrConflict = newError(OutcomeConflict, "already exists")

// ConflictError is ErrConflict with what collided, in the domain's words: the kind of record ("user",
// "api key", "operator") and its fields ("e-mail", "user name and e-mail"). Never the value, which may be
// personal data.
type ConflictError struct {
	Record string
	Fields []string
	Detail string // when set, the whole message (a rule of the record worded for the operator)
}

func (e *ConflictError) Error() string {
	if e.Detail != "" {
		return e.Detail
	}
	article := "a"
	if e.Record == "api key" || e.Record == "operator" {
		article = "an"
	}
	return fmt.Sprintf("%s %s with this %s already exists", article, e.Record, strings.Join(e.Fields, " and "))
}

// Unwrap makes errors.Is(err, ErrConflict) true.
func (e *ConflictError) Unwrap() error { return ErrConflict }

// The names of the limits, for LimitError, metrics and logs.
const (
	LimitRecipientMinute = "recipient_minute" // sends to one unknown phone or e-mail per minute
	LimitRecipientHour   = "recipient_hour"
	LimitAccountMinute   = "account_minute" // sends to one account, whatever its phone or e-mail, per minute
	LimitAccountHour     = "account_hour"
	LimitClientHour      = "client_hour"   // sends requested by one client address per hour
	LimitSignIn          = "signin"        // ONLYOFFICE's brute-force rule per login and address
	LimitSignInClient    = "signin_client" // failed sign-ins per client address per hour
)

// LimitNames lists every limit name.
func LimitNames() []string {
	return []string{LimitRecipientMinute, LimitRecipientHour, LimitAccountMinute, LimitAccountHour, LimitClientHour,
		LimitSignIn, LimitSignInClient}
}

// LimitError is a refusal by a named limit. It is ErrRateLimited (or, for the sign-in limits,
// ErrSignInBlocked) to errors.Is.
type LimitError struct {
	Limit string
	base  *Error // nil is ErrRateLimited
}

func (e *LimitError) Error() string { return fmt.Sprintf("%s (limit %s)", e.Unwrap(), e.Limit) }

// Unwrap is the failure the limit stands for.
func (e *LimitError) Unwrap() error {
	if e.base == nil {
		return ErrRateLimited
	}
	return e.base
}

func limited(name string) error { return &LimitError{Limit: name, base: ErrRateLimited} }

func signInLimited(name string) error { return &LimitError{Limit: name, base: ErrSignInBlocked} }

// OutcomeOf classifies an error: the outcome of the innermost domain failure it holds, OutcomePolicy for a
// PolicyError, OutcomeError for anything else. It is not meant for nil.
func OutcomeOf(err error) Outcome {
	var pe *PolicyError
	if errors.As(err, &pe) {
		return OutcomePolicy
	}
	var de *Error
	if errors.As(err, &de) {
		return de.Outcome
	}
	return OutcomeError
}

// LimitOf names the limit behind a refusal ("" when err is none).
func LimitOf(err error) string {
	var le *LimitError
	if errors.As(err, &le) {
		return le.Limit
	}
	return ""
}
