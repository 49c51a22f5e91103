package contracts

import "reflect"

// lcmanager (seed 000): POST api/user/RememberMessage of LCManagerPartner. Plain POCOs; the base classes
// live in another CLR namespace, which is why their members carry their own xmlns. Phone, Operator and
// Token are nullable (the help page shows 1 for each while the string counter runs on); their widths are
// the oracle's choice.

const (
	lcAbstractionsNS = "http://schemas.datacontract.org/2004/07/LCManagerPartner.Implementation.Abstractions"
	lcRequestNS      = "http://schemas.datacontract.org/2004/07/LCManagerPartner.Implementation.Request.UserRequest"
	lcResponseNS     = "http://schemas.datacontract.org/2004/07/LCManagerPartner.Implementation.Response.UserResponse"
)

// RememberMessageRequest asks for a confirmation code to be sent (by SMS when Phone is set, else by e-mail).
type RememberMessageRequest struct {
	SourceUrl *string
	Phone     *int64
	Email     *string
	Operator  *int32 // BaseRequest
	Token     *int64 // BaseRequest
	SiteCode  *string
}

// RememberMessageResponse answers RememberMessage.
type RememberMessageResponse struct {
	SessionId *string
	ErrorCode int32   // BaseResponse
	Message   *string // BaseResponse
}

var (
	rememberMessageRequest = &Contract{
		Name: "RememberMessageRequest", NS: lcRequestNS, Direction: Request,
		Go: reflect.TypeFor[RememberMessageRequest](),
		Members: []Member{
			{Name: "SourceUrl", Class: "RememberMessageRequest", Level: 1, NS: lcRequestNS, Kind: String,
				Doc: "Источник запроса"},
			{Name: "Phone", Class: "RememberMessageRequest", Level: 1, NS: lcRequestNS, Kind: NullableInt64,
				Doc: "Номер телефона пользователя"},
			{Name: "Email", Class: "RememberMessageRequest", Level: 1, NS: lcRequestNS, Kind: String,
				Doc: "Email пользователя"},
			{Name: "Operator", Class: "BaseRequest", Level: 0, NS: lcAbstractionsNS, Kind: NullableInt32,
				Doc: "Идентификатор оператора программы лояльности"},
			{Name: "Token", Class: "BaseRequest", Level: 0, NS: lcAbstractionsNS, Kind: NullableInt64,
				Doc: "Токен пользователя, который инициирует данный запрос"},
			{Name: "SiteCode", Class: "BaseRequest", Level: 0, NS: lcAbstractionsNS, Kind: String,
				Doc: "Уникальный код виджета по продаже подарочных сертификатов, который инициирует запрос"},
		},
	}
	rememberMessageResponse = &Contract{
		Name: "RememberMessageResponse", NS: lcResponseNS, Direction: Response,
		Go: reflect.TypeFor[RememberMessageResponse](),
		Members: []Member{
			{Name: "SessionId", Class: "RememberMessageResponse", Level: 1, NS: lcResponseNS, Kind: String,
				Doc: "Идентификатор сессии, в рамках которой был запрос на получение пароля"},
			{Name: "ErrorCode", Class: "BaseResponse", Level: 0, NS: lcAbstractionsNS, Kind: Int32,
				Doc: "Код ошибки"},
			{Name: "Message", Class: "BaseResponse", Level: 0, NS: lcAbstractionsNS, Kind: String,
				Doc: "Сообщение об ошибке"},
		},
	}
	// LCManager is the loyalty programme's service.
	LCManager = register(&App{ID: "lcmanager", Seed: "000"}, rememberMessageRequest, rememberMessageResponse)
)
