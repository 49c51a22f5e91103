package contracts

import "reflect"

// ereader (seed 003): POST api/Account/ResetPassword of CSAeReader. ApiResult<T> and ErrorModel share the
// namespace CSAeReader.Common.API; the help page calls the closed generic ApiResultOfstring.

const (
	ereaderModelsNS = "http://schemas.datacontract.org/2004/07/CSAeReader.API.eReaderAPI.Models"
	ereaderCommonNS = "http://schemas.datacontract.org/2004/07/CSAeReader.Common.API"
)

// ResetPasswordBindingModel consumes a code sent by RememberMessage and sets a new password.
type ResetPasswordBindingModel struct {
	UserId      int32
	Code        *string
	NewPassword *string
}

// ErrorModel lists the errors of an ApiResult.
type ErrorModel struct {
	ErrorsNumber   int32
	Messages       []*string
	MessagesString *string
}

// ApiResultOfstring is ApiResult<string>.
type ApiResultOfstring struct {
	Errors     *ErrorModel
	Result     *string
	StatusCode HttpStatusCode
}

// IsSuccess is the getter-only property Json.NET writes (DataContractSerializer skips it). Its formula is
// not visible in the seed; the oracle's choice is kept.
func (r *ApiResultOfstring) IsSuccess() bool { return r.Errors == nil || r.Errors.ErrorsNumber == 0 }

var (
	resetPasswordBindingModel = &Contract{
		Name: "ResetPasswordBindingModel", NS: ereaderModelsNS, Direction: Request,
		Go: reflect.TypeFor[ResetPasswordBindingModel](),
		Members: members("ResetPasswordBindingModel", ereaderModelsNS,
			Member{Name: "UserId", Kind: Int32, Required: true},
			Member{Name: "Code", Kind: String, Required: true},
			Member{Name: "NewPassword", Kind: String, Required: true},
		),
	}
	errorModel = &Contract{
		Name: "ErrorModel", NS: ereaderCommonNS,
		Go: reflect.TypeFor[ErrorModel](),
		Members: members("ErrorModel", ereaderCommonNS,
			Member{Name: "ErrorsNumber", Kind: Int32},
			Member{Name: "Messages", Kind: StringList},
			Member{Name: "MessagesString", Kind: String},
		),
	}
	apiResultOfstring = &Contract{
		Name: "ApiResultOfstring", NS: ereaderCommonNS, Direction: Response, HelpName: "ApiResultOfString",
		Go: reflect.TypeFor[ApiResultOfstring](),
		Members: members("ApiResultOfstring", ereaderCommonNS,
			Member{Name: "Errors", Kind: Object, Elem: errorModel},
			Member{Name: "Result", Kind: String},
			Member{Name: "IsSuccess", Kind: Bool, ReadOnly: true},
			Member{Name: "StatusCode", Kind: EnumKind, Enum: httpStatusCode},
		),
	}
	// EReader is the eReader service.
	EReader = register(&App{ID: "ereader", Seed: "003"}, resetPasswordBindingModel, apiResultOfstring)
)

// HttpStatusCode is System.Net.HttpStatusCode.
type HttpStatusCode int32

// httpStatusCode lists the members of the oracle's System.Net.HttpStatusCode (Mono 6.8, which has the newer
// codes such as 429 TooManyRequests; .NET Framework 4.x lacks 102, 103, 207, 208, 226, 308, 421-424, 428,
// 429, 431, 451 and 506-511, and would refuse to write them as XML). For a value with several names the
// serializer writes the first one listed here.
var httpStatusCode = &Enum{
	CLRName: "System.Net.HttpStatusCode",
	Go:      reflect.TypeFor[HttpStatusCode](),
	Values: []EnumValue{
		{"Continue", 100}, {"SwitchingProtocols", 101}, {"Processing", 102}, {"EarlyHints", 103},
		{"OK", 200}, {"Created", 201}, {"Accepted", 202}, {"NonAuthoritativeInformation", 203},
		{"NoContent", 204}, {"ResetContent", 205}, {"PartialContent", 206}, {"MultiStatus", 207},
		{"AlreadyReported", 208}, {"IMUsed", 226}, {"MultipleChoices", 300}, {"MovedPermanently", 301},
		{"Found", 302}, {"SeeOther", 303}, {"NotModified", 304}, {"UseProxy", 305}, {"Unused", 306},
		{"TemporaryRedirect", 307}, {"PermanentRedirect", 308}, {"BadRequest", 400}, {"Unauthorized", 401},
		{"PaymentRequired", 402}, {"Forbidden", 403}, {"NotFound", 404}, {"MethodNotAllowed", 405},
		{"NotAcceptable", 406}, {"ProxyAuthenticationRequired", 407}, {"RequestTimeout", 408},
		{"Conflict", 409}, {"Gone", 410}, {"LengthRequired", 411}, {"PreconditionFailed", 412},
		{"RequestEntityTooLarge", 413}, {"RequestUriTooLong", 414}, {"UnsupportedMediaType", 415},
		{"RequestedRangeNotSatisfiable", 416}, {"ExpectationFailed", 417}, {"MisdirectedRequest", 421},
		{"UnprocessableEntity", 422}, {"Locked", 423}, {"FailedDependency", 424}, {"UpgradeRequired", 426},
		{"PreconditionRequired", 428}, {"TooManyRequests", 429}, {"RequestHeaderFieldsTooLarge", 431},
		{"UnavailableForLegalReasons", 451}, {"InternalServerError", 500}, {"NotImplemented", 501},
		{"BadGateway", 502}, {"ServiceUnavailable", 503}, {"GatewayTimeout", 504},
		{"HttpVersionNotSupported", 505}, {"VariantAlsoNegotiates", 506}, {"InsufficientStorage", 507},
		{"LoopDetected", 508}, {"NotExtended", 510}, {"NetworkAuthenticationRequired", 511},
	},
	Aliases: []EnumValue{
		{"Ambiguous", 300}, {"Moved", 301}, {"Redirect", 302}, {"RedirectMethod", 303}, {"RedirectKeepVerb", 307},
	},
	NotInFramework: []int64{102, 103, 207, 208, 226, 308, 421, 422, 423, 424, 428, 429, 431, 451, 506, 507, 508, 510, 511},
}

// HTTP status codes the gateway answers with.
const (
	StatusOK                  HttpStatusCode = 200
	StatusBadRequest          HttpStatusCode = 400
	StatusNotFound            HttpStatusCode = 404
	StatusTooManyRequests     HttpStatusCode = 429
	StatusInternalServerError HttpStatusCode = 500
)
