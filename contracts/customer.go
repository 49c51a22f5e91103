package contracts

import "reflect"

// customer (seed 002): POST api/Customer/PasswordChange of BusinessLayer.Dto. One class each, so the XML
// lists every member in one ordinal run.

const (
	customerRequestNS  = "http://schemas.datacontract.org/2004/07/BusinessLayer.Dto.Request"
	customerResponseNS = "http://schemas.datacontract.org/2004/07/BusinessLayer.Dto.Response"
)

// PasswordChangeRequest consumes a ChangeRequestId and sets a new password.
type PasswordChangeRequest struct {
	RequestFromIdentityServer bool
	Password                  *string
	ChangeRequestId           *string
	IPAddress                 *string
	UserAgent                 *string
	PermanentSessionId        *string
}

// PasswordChangeResponseCode is the outcome of PasswordChange. Only PasswordUsedBefore = 9000 is evidenced
// by the seed; the other members are the project's, shared with the oracle.
type PasswordChangeResponseCode int32

// The PasswordChange outcomes.
const (
	PasswordUsedBefore      PasswordChangeResponseCode = 9000
	PasswordChanged         PasswordChangeResponseCode = 9001
	ChangeRequestNotFound   PasswordChangeResponseCode = 9002
	ChangeRequestExpired    PasswordChangeResponseCode = 9003
	PasswordPolicyViolation PasswordChangeResponseCode = 9004
)

// PasswordChangeResponse answers PasswordChange with the user's profile.
type PasswordChangeResponse struct {
	Email                  *string
	UserId                 Guid
	FirstName              *string
	LastName               *string
	Title                  *string
	IsLazy                 bool
	UserType               *int32
	SharedDataPermission   bool
	Gender                 *int32
	Code                   PasswordChangeResponseCode
	ExceptionMessageList   []*string
	RedirectionKey         *string
	ReturnUrl              *string
	IsValid                bool
	Success                bool
	InformationMessageList []*string
	WarningMessageList     []*string
}

var (
	passwordChangeResponseCode = &Enum{
		CLRName: "BusinessLayer.Dto.Response.PasswordChangeResponseCode",
		Go:      reflect.TypeFor[PasswordChangeResponseCode](),
		Values: []EnumValue{
			{"PasswordUsedBefore", 9000}, {"PasswordChanged", 9001}, {"ChangeRequestNotFound", 9002},
			{"ChangeRequestExpired", 9003}, {"PasswordPolicyViolation", 9004},
		},
	}
	passwordChangeRequest = &Contract{
		Name: "PasswordChangeRequest", NS: customerRequestNS, Direction: Request,
		Go: reflect.TypeFor[PasswordChangeRequest](),
		Members: members("PasswordChangeRequest", customerRequestNS,
			Member{Name: "RequestFromIdentityServer", Kind: Bool},
			Member{Name: "Password", Kind: String},
			Member{Name: "ChangeRequestId", Kind: String},
			Member{Name: "IPAddress", Kind: String},
			Member{Name: "UserAgent", Kind: String},
			Member{Name: "PermanentSessionId", Kind: String},
		),
	}
	passwordChangeResponse = &Contract{
		Name: "PasswordChangeResponse", NS: customerResponseNS, Direction: Response,
		Go: reflect.TypeFor[PasswordChangeResponse](),
		Members: members("PasswordChangeResponse", customerResponseNS,
			Member{Name: "Email", Kind: String},
			Member{Name: "UserId", Kind: GuidKind},
			Member{Name: "FirstName", Kind: String},
			Member{Name: "LastName", Kind: String},
			Member{Name: "Title", Kind: String},
			Member{Name: "IsLazy", Kind: Bool},
			Member{Name: "UserType", Kind: NullableInt32},
			Member{Name: "SharedDataPermission", Kind: Bool},
			Member{Name: "Gender", Kind: NullableInt32},
			Member{Name: "Code", Kind: EnumKind, Enum: passwordChangeResponseCode},
			Member{Name: "ExceptionMessageList", Kind: StringList},
			Member{Name: "RedirectionKey", Kind: String},
			Member{Name: "ReturnUrl", Kind: String},
			Member{Name: "IsValid", Kind: Bool},
			Member{Name: "Success", Kind: Bool},
			Member{Name: "InformationMessageList", Kind: StringList},
			Member{Name: "WarningMessageList", Kind: StringList},
		),
	}
	// Customer is the customer portal.
	Customer = register(&App{ID: "customer", Seed: "002"}, passwordChangeRequest, passwordChangeResponse)
)

// members fills in the declaring class of members that all belong to one class without a serialized base.
func members(class, ns string, ms ...Member) []Member {
	for i := range ms {
		ms[i].Class, ms[i].NS, ms[i].Level = class, ns, 0
	}
	return ms
}
