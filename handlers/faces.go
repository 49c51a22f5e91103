package handlers

import (
	"context"
	"errors"
	"net/http"
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

// Faces returns the four Web API endpoints answered by the recovery domain.
func Faces(rec Recovery) []Endpoint {
	c := func(app, typ string) *contracts.Contract {
		ct, err := contracts.Lookup(app, typ)
		if err != nil {
			panic(err)
		}
		return ct
	}
	return []Endpoint{
		{App: contracts.LCManager, Path: "api/user/RememberMessage", Param: "request",
			Request: c("lcmanager", "RememberMessageRequest"), Response: c("lcmanager", "RememberMessageResponse"),
			Action: func(call *Call) (Reply, error) { return rememberMessage(call, rec) }},
		{App: contracts.EReader, Path: "api/Account/ResetPassword", Param: "model",
			Request: c("ereader", "ResetPasswordBindingModel"), Response: c("ereader", "ApiResultOfstring"),
			Action: func(call *Call) (Reply, error) { return resetPassword(call, rec) }},
		{App: contracts.Aries, Path: "API/Account/ForgotPassword", Param: "model",
			Request: c("aries", "ForgotPasswordRequestViewModel"), Response: c("aries", "ForgotPasswordResponseViewModel"),
			Action: func(call *Call) (Reply, error) { return forgotPassword(call, rec) }},
		{App: contracts.Customer, Path: "api/Customer/PasswordChange", Param: "request",
			Request: c("customer", "PasswordChangeRequest"), Response: c("customer", "PasswordChangeResponse"),
			Action: func(call *Call) (Reply, error) { return passwordChange(call, rec) }},
	}
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
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
	out := &contracts.RememberMessageResponse{}
	switch {
	case err == nil:
		out.SessionId = &sessionID
	case errors.Is(err, account.ErrNoRecipient):
		out.ErrorCode, out.Message = lcErrorNoRecipient, contracts.Ptr(lcNoRecipient)
	case errors.Is(err, account.ErrRateLimited):
		out.ErrorCode, out.Message = lcErrorRateLimited, contracts.Ptr(lcRateLimited)
	default:
		return Reply{}, err
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
		return apiResult(contracts.StatusBadRequest, "", erEmpty), nil
	}
	err := rec.ResetWithCode(call.Context, int64(in.UserId), str(in.Code), str(in.NewPassword))
	var policy *account.PolicyError
	switch {
	case err == nil:
		return apiResult(contracts.StatusOK, erReset), nil
	case errors.Is(err, account.ErrCodeRejected):
		return apiResult(contracts.StatusBadRequest, "", erCodeRejected), nil
	case errors.As(err, &policy):
		return apiResult(contracts.StatusBadRequest, "", policyMessage(policy)), nil
	case errors.Is(err, account.ErrBusy):
		return apiResult(http.StatusServiceUnavailable, "", erBusy), nil
	}
	return Reply{}, err
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
	failure := func(status contracts.ForgotPasswordStatus, level contracts.ServiceErrorLevel, msg string) Reply {
		return Reply{Value: &contracts.ForgotPasswordResponseViewModel{Status: status, BaseStatus: contracts.ResponseFailure,
			Errors: []*contracts.ServiceErrorViewModel{{Level: level, ErrorDescription: &msg}}}}
	}
	switch {
	case err == nil:
		return Reply{Value: &contracts.ForgotPasswordResponseViewModel{Status: contracts.ForgotSuccess,
			BaseStatus: contracts.ResponseSuccess, Errors: []*contracts.ServiceErrorViewModel{}}}, nil
	case errors.Is(err, account.ErrInvalidAPIKey):
		return failure(contracts.ForgotInvalidApiKey, contracts.LevelError, arInvalidAPIKey), nil
	case errors.Is(err, account.ErrRateLimited):
		return failure(contracts.ForgotTooManyRequests, contracts.LevelWarning, arTooManyRequests), nil
	}
	return Reply{}, err
}

func passwordChange(call *Call, rec Recovery) (Reply, error) {
	in, _ := call.Model.(*contracts.PasswordChangeRequest)
	var input account.ChangeInput
	if in != nil {
		input = account.ChangeInput{ChangeRequestID: str(in.ChangeRequestId), Password: str(in.Password),
			IPAddress: str(in.IPAddress), UserAgent: str(in.UserAgent), PermanentSessionID: str(in.PermanentSessionId)}
	}
	u, err := rec.ChangePassword(call.Context, input)
	failure := func(code contracts.PasswordChangeResponseCode, msg string) Reply {
		return Reply{Value: &contracts.PasswordChangeResponse{Code: code, ExceptionMessageList: []*string{&msg}}}
	}
	var policy *account.PolicyError
	switch {
	case err == nil:
		return Reply{Value: profile(u)}, nil
	case errors.Is(err, account.ErrChangeRequestNotFound):
		return failure(contracts.ChangeRequestNotFound, cuNotFound), nil
	case errors.Is(err, account.ErrChangeRequestExpired):
		return failure(contracts.ChangeRequestExpired, cuExpired), nil
	case errors.Is(err, account.ErrPasswordUsedBefore):
		return failure(contracts.PasswordUsedBefore, cuUsedBefore), nil
	case errors.As(err, &policy):
		return failure(contracts.PasswordPolicyViolation, policyMessage(policy)), nil
	}
	return Reply{}, err
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
