package handlers

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strconv"

	"aspgate/account"
	"aspgate/contracts"
)

// Recovery is what the legacy faces need from the account domain.
type Recovery interface {
	SendCode(ctx context.Context, r account.CodeRequest) (string, error)
	ResetWithCode(ctx context.Context, userID int64, code, newPassword string) error
	SendChangeLink(ctx context.Context, r account.LinkRequest) error
	ChangePassword(ctx context.Context, in account.ChangeInput) (*account.User, error)
}

// Legacy answers of each face. Every value is listed in the README; lcmanager speaks Russian like the
// original service.
const (
	lcNoRecipient      = "Не указан номер телефона или адрес электронной почты"
	lcRateLimited      = "Превышено число запросов кода. Повторите попытку позже"
	erReset            = "Password has been reset."
	erCodeRejected     = "Invalid or expired code."
	erEmpty            = "The request is empty."
	erBusy             = "The service is busy. Try again later."
	arInvalidAPIKey    = "Invalid API key."
	arTooManyRequests  = "Too many requests. Try again later."
	cuNotFound         = "The password change request was not found."
	cuExpired          = "The password change request has expired."
	cuUsedBefore       = "The password was used before."
	lcErrorNoRecipient = 1
	lcErrorRateLimited = 2
)

// Faces returns the four Web API endpoints answered by the recovery domain, at the routes of the contract
// tables (contracts.Routes), which the Help pages and the OpenAPI document describe too.
func Faces(rec Recovery) []Endpoint {
	actions := map[*contracts.App]func(call *Call) (Reply, error){
		contracts.LCManager: func(call *Call) (Reply, error) { return rememberMessage(call, rec) },
		contracts.EReader:   func(call *Call) (Reply, error) { return resetPassword(call, rec) },
		contracts.Aries:     func(call *Call) (Reply, error) { return forgotPassword(call, rec) },
		contracts.Customer:  func(call *Call) (Reply, error) { return passwordChange(call, rec) },
	}
	var eps []Endpoint
	for _, r := range contracts.Routes() {
		eps = append(eps, Endpoint{App: r.App, Path: r.Path, Param: r.Param, Request: r.Request, Response: r.Response,
			Action: actions[r.App]})
	}
	return eps
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// The answer tables: each face's legacy answer to each domain outcome, the one place a face's outcomes
// are mapped (the outcomes themselves are account's, and the access log and metrics read them from the
// request's RequestInfo). An outcome missing from a face's table is what the legacy action would have
// thrown: Web API's 500.

// lcAnswer is RememberMessageResponse's ErrorCode and Message.
type lcAnswer struct {
	code int32
	msg  string
}

var lcAnswers = map[account.Outcome]lcAnswer{
	account.OutcomeCodeSent:    {}, // SessionId set
	account.OutcomeNoRecipient: {lcErrorNoRecipient, lcNoRecipient},
	account.OutcomeRateLimited: {lcErrorRateLimited, lcRateLimited},
}

// erAnswer is ApiResultOfstring's StatusCode and Result or message ("" for a policy refusal: its reason).
type erAnswer struct {
	status contracts.HttpStatusCode
	result string
	msg    string
}

var erAnswers = map[account.Outcome]erAnswer{
	account.OutcomePasswordReset: {status: contracts.StatusOK, result: erReset},
	account.OutcomeCodeRejected:  {status: contracts.StatusBadRequest, msg: erCodeRejected},
	account.OutcomePolicy:        {status: contracts.StatusBadRequest},
	account.OutcomeBusy:          {status: http.StatusServiceUnavailable, msg: erBusy},
}

// arAnswer is ForgotPasswordResponseViewModel's Status and its one error.
type arAnswer struct {
	status contracts.ForgotPasswordStatus
	level  contracts.ServiceErrorLevel
	msg    string
}

var arAnswers = map[account.Outcome]arAnswer{
	account.OutcomeLinkSent:      {status: contracts.ForgotSuccess},
	account.OutcomeInvalidAPIKey: {contracts.ForgotInvalidApiKey, contracts.LevelError, arInvalidAPIKey},
	account.OutcomeRateLimited:   {contracts.ForgotTooManyRequests, contracts.LevelWarning, arTooManyRequests},
}

// cuAnswer is PasswordChangeResponse's Code and message ("" for a policy refusal: its reason).
type cuAnswer struct {
	code contracts.PasswordChangeResponseCode
	msg  string
}

var cuAnswers = map[account.Outcome]cuAnswer{
	account.OutcomePasswordChanged: {code: contracts.PasswordChanged},
	account.OutcomeChangeNotFound:  {contracts.ChangeRequestNotFound, cuNotFound},
	account.OutcomeChangeExpired:   {contracts.ChangeRequestExpired, cuExpired},
	account.OutcomePasswordUsed:    {contracts.PasswordUsedBefore, cuUsedBefore},
	account.OutcomePolicy:          {code: contracts.PasswordPolicyViolation},
}

// AnswerTables lists the outcomes each face answers, besides failing (for tests and documentation).
func AnswerTables() map[string][]account.Outcome {
	return map[string][]account.Outcome{"lcmanager": outcomesOf(lcAnswers), "ereader": outcomesOf(erAnswers),
		"aries": outcomesOf(arAnswers), "customer": outcomesOf(cuAnswers), "r7office": outcomesOf(r7Failures)}
}

func outcomesOf[V any](m map[account.Outcome]V) []account.Outcome {
	out := make([]account.Outcome, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func rememberMessage(call *Call, rec Recovery) (Reply, error) {
	in, _ := call.Model.(*contracts.RememberMessageRequest)
	r := account.CodeRequest{App: "lcmanager", ClientIP: call.RemoteIP}
	if in != nil {
		if in.Phone != nil && *in.Phone > 0 {
			r.Phone = strconv.FormatInt(*in.Phone, 10)
		}
		r.Email = str(in.Email)
	}
	sessionID, err := rec.SendCode(call.Context, r)
	a, ok := lcAnswers[settle(call.Context, err, account.OutcomeCodeSent)]
	if !ok {
		return Reply{}, err
	}
	out := &contracts.RememberMessageResponse{ErrorCode: a.code}
	if err == nil {
		out.SessionId = &sessionID
	} else {
		out.Message = &a.msg
	}
	return Reply{Value: out}, nil
}

// apiResult is ereader's answer; the HTTP status equals StatusCode.
func apiResult(status contracts.HttpStatusCode, result string, errs ...string) Reply {
	out := &contracts.ApiResultOfstring{StatusCode: status}
	if result != "" {
		out.Result = &result
	}
	if len(errs) > 0 {
		e := &contracts.ErrorModel{ErrorsNumber: int32(len(errs)), MessagesString: contracts.Ptr(errs[0])}
		for i := range errs {
			e.Messages = append(e.Messages, &errs[i])
		}
		out.Errors = e
	}
	return Reply{Value: out, Status: int(status)}
}

func resetPassword(call *Call, rec Recovery) (Reply, error) {
	in, _ := call.Model.(*contracts.ResetPasswordBindingModel)
	if in == nil {
		Info(call.Context).Outcome = account.OutcomeBadRequest
		return apiResult(contracts.StatusBadRequest, "", erEmpty), nil
	}
	err := rec.ResetWithCode(call.Context, int64(in.UserId), str(in.Code), str(in.NewPassword))
	a, ok := erAnswers[settle(call.Context, err, account.OutcomePasswordReset)]
	switch {
	case !ok:
		return Reply{}, err
	case a.result != "":
		return apiResult(a.status, a.result), nil
	}
	return apiResult(a.status, "", messageOf(a.msg, err)), nil
}

// messageOf is an answer's message, or for a policy refusal (an empty message in the table) its reason
// as a sentence.
func messageOf(msg string, err error) string {
	var policy *account.PolicyError
	if msg == "" && errors.As(err, &policy) {
		return policyMessage(policy)
	}
	return msg
}

func policyMessage(e *account.PolicyError) string {
	r := []rune(e.Reason)
	if len(r) > 0 && r[0] >= 'a' && r[0] <= 'z' {
		r[0] -= 'a' - 'A'
	}
	return string(r) + "."
}

func forgotPassword(call *Call, rec Recovery) (Reply, error) {
	in, _ := call.Model.(*contracts.ForgotPasswordRequestViewModel)
	r := account.LinkRequest{App: "aries", ClientIP: call.RemoteIP}
	if in != nil {
		r.APIKey, r.UserName, r.Email = str(in.ApiKey), str(in.UserName), str(in.Email)
	}
	err := rec.SendChangeLink(call.Context, r)
	a, ok := arAnswers[settle(call.Context, err, account.OutcomeLinkSent)]
	switch {
	case !ok:
		return Reply{}, err
	case err == nil:
		return Reply{Value: &contracts.ForgotPasswordResponseViewModel{Status: a.status,
			BaseStatus: contracts.ResponseSuccess, Errors: []*contracts.ServiceErrorViewModel{}}}, nil
	}
	return Reply{Value: &contracts.ForgotPasswordResponseViewModel{Status: a.status, BaseStatus: contracts.ResponseFailure,
		Errors: []*contracts.ServiceErrorViewModel{{Level: a.level, ErrorDescription: &a.msg}}}}, nil
}

func passwordChange(call *Call, rec Recovery) (Reply, error) {
	in, _ := call.Model.(*contracts.PasswordChangeRequest)
	input := account.ChangeInput{ClientIP: call.RemoteIP}
	if in != nil {
		input.ChangeRequestID, input.Password = str(in.ChangeRequestId), str(in.Password)
		input.IPAddress, input.UserAgent, input.PermanentSessionID = str(in.IPAddress), str(in.UserAgent), str(in.PermanentSessionId)
	}
	u, err := rec.ChangePassword(call.Context, input)
	a, ok := cuAnswers[settle(call.Context, err, account.OutcomePasswordChanged)]
	switch {
	case !ok:
		return Reply{}, err
	case err == nil:
		return Reply{Value: profile(u)}, nil
	}
	msg := messageOf(a.msg, err)
	return Reply{Value: &contracts.PasswordChangeResponse{Code: a.code, ExceptionMessageList: []*string{&msg}}}, nil
}

func profile(u *account.User) *contracts.PasswordChangeResponse {
	opt := func(s string) *string {
		if s == "" {
			return nil
		}
		return &s
	}
	return &contracts.PasswordChangeResponse{
		Email: opt(u.Email), UserId: contracts.Guid(u.UID), FirstName: u.FirstName, LastName: u.LastName,
		Title: u.Title, IsLazy: u.IsLazy, UserType: u.UserType, SharedDataPermission: u.SharedDataPermission,
		Gender: u.Gender, Code: contracts.PasswordChanged, ExceptionMessageList: []*string{}, IsValid: true, Success: true,
	}
}
