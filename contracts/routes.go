package contracts

// Route is one legacy Web API action: where it is, what it binds and answers, and what its Help Page says
// of it (the controllers' <summary>, the body parameter's <param> and the <returns> of the service's XML
// documentation, as the seeds show them). The handlers route by it, the Help pages and the OpenAPI
// document describe it.
type Route struct {
	App        *App
	Method     string
	Path       string // the route template, as the Help Page and a 404 quote it
	Controller string // the Help Page groups its index by controller
	Param      string // the action's body parameter, which prefixes model state keys
	Request    *Contract
	Response   *Contract
	Doc        string // the action's summary
	ParamDoc   string // the body parameter's doc
	ReturnsDoc string
	// ReplyStatuses are the statuses besides 200 at which the action itself answers with its response
	// type (ereader's ApiResult carries its StatusCode as the HTTP status too); every other failure is
	// Web API's HttpError.
	ReplyStatuses []int
}

// HelpID is the Help Page's id of the API: method, then the path with "/" as "-" (ApiDescriptionExtensions
// .GetFriendlyId).
func (r *Route) HelpID() string {
	id := []byte(r.Method + "-" + r.Path)
	for i, c := range id {
		if c == '/' {
			id[i] = '-'
		}
	}
	return string(id)
}

var routes = []*Route{
	{App: LCManager, Method: "POST", Path: "api/user/RememberMessage", Controller: "User", Param: "request",
		Request: rememberMessageRequest, Response: rememberMessageResponse,
		Doc: "Отправка кода подтверждения пользователю ЛК для смены/получения пароля от ЛК"},
	{App: Customer, Method: "POST", Path: "api/Customer/PasswordChange", Controller: "Customer", Param: "request",
		Request: passwordChangeRequest, Response: passwordChangeResponse},
	{App: EReader, Method: "POST", Path: "api/Account/ResetPassword", Controller: "Account", Param: "model",
		Request: resetPasswordBindingModel, Response: apiResultOfstring,
		Doc: "Method to reset password", ParamDoc: "ResetPasswordBindingModel",
		ReturnsDoc:    "ApiResult[string] whether the password was successfully reset. If it is successful, the result will contain success message; otherwise it will contain error messages",
		ReplyStatuses: []int{400, 503}},
	{App: Aries, Method: "POST", Path: "API/Account/ForgotPassword", Controller: "Account", Param: "model",
		Request: forgotPasswordRequestViewModel, Response: forgotPasswordResponseViewModel},
}

// Routes lists the Web API actions of the legacy services, in seed order (r7office's ASC.Api routes are
// not Web API's: see the handlers).
func Routes() []*Route { return routes }

// RouteOf is an app's action (nil for r7office).
func RouteOf(a *App) *Route {
	for _, r := range routes {
		if r.App == a {
			return r
		}
	}
	return nil
}

// ASCRoute is one of r7office's ASC.Api methods (AuthenticationEntryPoint) that aspgate serves: POST on
// api/2.0/authentication[/name], each also reachable with a ".json" or ".xml" suffix that picks the
// answer's format. Descriptions are the seed's (the R7-Office API portal) where it documents the method.
type ASCRoute struct {
	Name       string // the method's own segment: "" for api/2.0/authentication itself, "{code}" for the route value
	Request    *Contract
	Response   *Contract
	Doc        string
	ReturnsDoc string
	CodeDoc    string // the {code} route value's description
}

// ASCBase is the entry point's route prefix.
const ASCBase = "api/2.0/authentication"

// Path is the route without a suffix.
func (r *ASCRoute) Path() string {
	if r.Name == "" {
		return ASCBase
	}
	return ASCBase + "/" + r.Name
}

var ascRoutes = []*ASCRoute{
	{Name: "", Request: authenticationRequest, Response: authenticationResponse,
		Doc: "Signs a user in by user name (or e-mail) and password. Without a second factor the answer holds the token; " +
			"with one it holds no token and says which second factor to confirm (sms with the phone's noise, or tfa)."},
	{Name: "setphone", Request: setPhoneRequest, Response: setPhoneResponse,
		Doc:        "Устанавливает номер мобильного телефона для пользователя с именем, указанным в запросе.",
		ReturnsDoc: "Мобильный телефон"},
	{Name: "sendsms", Request: authenticationRequest, Response: setPhoneResponse,
		Doc: "Sends the sign-in code by SMS again to the phone of the user named in the request."},
	{Name: "{code}", Request: authenticationRequest, Response: authenticationResponse,
		Doc:        "Возвращает токен аутентификации для использования в авторизации API.",
		ReturnsDoc: "Two-factor authentication token to use in ‘Authorization’ header when calling API methods",
		CodeDoc:    "Two-factor authentication code"},
}

// ASCRoutes lists r7office's served methods, the literal routes before {code} as ASC.Api matches them.
func ASCRoutes() []*ASCRoute { return ascRoutes }
