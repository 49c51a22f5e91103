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
		ReturnsDoc: "ApiResult[string] whether the password was successfully reset. If it is successful, the result will contain success message; otherwise it will contain error messages"},
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
