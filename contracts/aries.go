package contracts

import "reflect"

// aries (seed 004): POST API/Account/ForgotPassword of ARIES.Alacrity, whose JSON formatter uses
// CamelCasePropertyNamesContractResolver.
//
// apiKey is declared in an intermediate class between the base model and ForgotPasswordRequestViewModel:
// the only arrangement that fits all three samples (reflection numbers UserName 1, Email 2, ApiKey 3,
// apiKey 4; DataContractSerializer writes <apiKey> before <ApiKey>; under camelCase both are "apiKey" and
// Json.NET keeps the more derived one). The response's Status hides the base class's Status with `new`:
// Json.NET writes only the derived one, DataContractSerializer both.

const (
	ariesModelsNS  = "http://schemas.datacontract.org/2004/07/ARIES.Alacrity.Services.Models"
	ariesAccountNS = "http://schemas.datacontract.org/2004/07/ARIES.Alacrity.Services.Areas.Account.Models"
)

// ForgotPasswordRequestViewModel asks for a password-change link to be e-mailed.
type ForgotPasswordRequestViewModel struct {
	UserName *string
	Email    *string
	ApiKey   *string
	// BaseApiKey is ApiKeyRequestViewModel.apiKey: XML only, since JSON's "apiKey" binds ApiKey.
	BaseApiKey          *string
	UserId              *string // BaseRequestViewModel
	IPAddress           *string
	ApplicationId       *string
	VersionId           *string
	ClientConfigVersion int32
}

// ForgotPasswordStatus is the outcome of ForgotPassword. Success = 1 is evidenced; the rest are the
// project's, shared with the oracle.
type ForgotPasswordStatus int32

// The ForgotPassword outcomes.
const (
	ForgotSuccess           ForgotPasswordStatus = 1
	ForgotUserNotFound      ForgotPasswordStatus = 2
	ForgotEmailNotConfirmed ForgotPasswordStatus = 3
	ForgotInvalidApiKey     ForgotPasswordStatus = 4
	ForgotTooManyRequests   ForgotPasswordStatus = 5
)

// ResponseStatus is BaseResponseViewModel.Status.
type ResponseStatus int32

// The base statuses.
const (
	ResponseSuccess ResponseStatus = 1
	ResponseFailure ResponseStatus = 2
)

// ServiceErrorLevel grades a ServiceErrorViewModel.
type ServiceErrorLevel int32

// The error levels.
const (
	LevelCritical    ServiceErrorLevel = 1
	LevelError       ServiceErrorLevel = 2
	LevelWarning     ServiceErrorLevel = 3
	LevelInformation ServiceErrorLevel = 4
)

// ServiceErrorViewModel is one entry of a response's Errors.
type ServiceErrorViewModel struct {
	Level            ServiceErrorLevel
	ErrorDescription *string
	StackTrace       *string
	Error            *Exception
}

// ForgotPasswordResponseViewModel answers ForgotPassword.
type ForgotPasswordResponseViewModel struct {
	Status     ForgotPasswordStatus
	Errors     []*ServiceErrorViewModel // BaseResponseViewModel
	BaseStatus ResponseStatus           // BaseResponseViewModel.Status, hidden by Status
}

var (
	forgotPasswordStatus = &Enum{
		CLRName: "ARIES.Alacrity.Services.Areas.Account.Models.ForgotPasswordStatus",
		Go:      reflect.TypeFor[ForgotPasswordStatus](),
		Values: []EnumValue{{"Success", 1}, {"UserNotFound", 2}, {"EmailNotConfirmed", 3},
			{"InvalidApiKey", 4}, {"TooManyRequests", 5}},
	}
	responseStatus = &Enum{
		CLRName: "ARIES.Alacrity.Services.Models.ResponseStatus",
		Go:      reflect.TypeFor[ResponseStatus](),
		Values:  []EnumValue{{"Success", 1}, {"Failure", 2}},
	}
	serviceErrorLevel = &Enum{
		CLRName: "ARIES.Alacrity.Services.Models.ServiceErrorLevel",
		Go:      reflect.TypeFor[ServiceErrorLevel](),
		Values:  []EnumValue{{"Critical", 1}, {"Error", 2}, {"Warning", 3}, {"Information", 4}},
	}
	forgotPasswordRequestViewModel = &Contract{
		Name: "ForgotPasswordRequestViewModel", NS: ariesAccountNS, Direction: Request,
		Go: reflect.TypeFor[ForgotPasswordRequestViewModel](),
		Members: []Member{
			{Name: "UserName", Class: "ForgotPasswordRequestViewModel", Level: 2, NS: ariesAccountNS, Kind: String},
			{Name: "Email", Class: "ForgotPasswordRequestViewModel", Level: 2, NS: ariesAccountNS, Kind: String},
			{Name: "ApiKey", Class: "ForgotPasswordRequestViewModel", Level: 2, NS: ariesAccountNS, Kind: String},
			{Name: "apiKey", Field: "BaseApiKey", Class: "ApiKeyRequestViewModel", Level: 1, NS: ariesAccountNS, Kind: String, Shadowed: true},
			{Name: "UserId", Class: "BaseRequestViewModel", Level: 0, NS: ariesModelsNS, Kind: String},
			{Name: "IPAddress", Class: "BaseRequestViewModel", Level: 0, NS: ariesModelsNS, Kind: String},
			{Name: "ApplicationId", Class: "BaseRequestViewModel", Level: 0, NS: ariesModelsNS, Kind: String},
			{Name: "VersionId", Class: "BaseRequestViewModel", Level: 0, NS: ariesModelsNS, Kind: String},
			{Name: "ClientConfigVersion", Class: "BaseRequestViewModel", Level: 0, NS: ariesModelsNS, Kind: Int32},
		},
	}
	serviceErrorViewModel = &Contract{
		Name: "ServiceErrorViewModel", NS: ariesModelsNS,
		Go: reflect.TypeFor[ServiceErrorViewModel](),
		Members: members("ServiceErrorViewModel", ariesModelsNS,
			Member{Name: "Level", Kind: EnumKind, Enum: serviceErrorLevel},
			Member{Name: "ErrorDescription", Kind: String},
			Member{Name: "StackTrace", Kind: String},
			Member{Name: "Error", Kind: ExceptionKind},
		),
	}
	forgotPasswordResponseViewModel = &Contract{
		Name: "ForgotPasswordResponseViewModel", NS: ariesAccountNS, Direction: Response,
		Go: reflect.TypeFor[ForgotPasswordResponseViewModel](),
		Members: []Member{
			{Name: "Status", Class: "ForgotPasswordResponseViewModel", Level: 1, NS: ariesAccountNS, Kind: EnumKind, Enum: forgotPasswordStatus},
			{Name: "Errors", Class: "BaseResponseViewModel", Level: 0, NS: ariesModelsNS, Kind: ObjectList, Elem: serviceErrorViewModel},
			{Name: "Status", Field: "BaseStatus", Class: "BaseResponseViewModel", Level: 0, NS: ariesModelsNS, Kind: EnumKind, Enum: responseStatus, Shadowed: true},
		},
	}
	// Aries is ARIES Alacrity.
	Aries = register(&App{ID: "aries", Seed: "004", CamelCase: true}, forgotPasswordRequestViewModel, forgotPasswordResponseViewModel)
)
