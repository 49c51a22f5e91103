package contracts

import (
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"time"
)

// r7office (seed 001): R7-Office, a fork of ONLYOFFICE Community Server, whose ASC.Api framework is not
// ASP.NET Web API. Requests are plain POCOs (only their help-page samples and Web API's formatters see
// them); responses are ASC.Api's envelope ApiStandartResponce, written by Json.NET with a camelCase
// resolver and ASC.Api's own string escaping, its XML converted from that JSON. Member orders and the
// EmitDefaultValue rules come from the framework's [DataMember] attributes (oracle README, "r7office wire
// facts").

const r7ModelsNS = "http://schemas.datacontract.org/2004/07/R7Office.Api.Models"

// SetPhoneRequest is the body of POST api/2.0/authentication/setphone.
type SetPhoneRequest struct {
	UserName    *string
	Password    *string
	Provider    *string
	AccessToken *string
	MobilePhone *string
}

// AuthenticationRequest is the body of POST api/2.0/authentication/{code}.
type AuthenticationRequest struct {
	UserName    *string
	Password    *string
	Provider    *string
	AccessToken *string
	CodeOAuth   *string
}

// ApiStatus is ASC.Api.Enums.ApiStatus; Json.NET writes it as a number.
type ApiStatus int32

// The envelope statuses.
const (
	ApiStatusOk    ApiStatus = 0
	ApiStatusError ApiStatus = 1
)

// Envelope is ASC.Api's ApiStandartResponce as SetPhoneResponse and AuthenticationResponse carry it.
type Envelope struct {
	Count      int64
	StartIndex int64
	NextIndex  *int64
	Total      *int64
	Status     ApiStatus
	StatusCode int64
	Response   *AuthenticationTokenData
	Error      *ErrorWrapper
}

// AuthenticationTokenData is ASC.Specific.AuthorizationApi.AuthenticationTokenData.
type AuthenticationTokenData struct {
	Token      *string
	Expires    *ApiDateTime
	Sms        bool
	PhoneNoise *string
	Tfa        bool
	TfaKey     *string
}

// ErrorWrapper is ASC.Api.Interfaces.ErrorWrapper; Type and Stack stay null outside DEBUG builds, and Data
// is the exception's (normally empty) Data dictionary.
type ErrorWrapper struct {
	Message *string
	Type    *string
	Stack   *string
	HResult int32
	Data    *Dict
}

// HResults that ASC.Api reports.
const (
	// HResultSystem is COR_E_SYSTEM, the HResult of AuthenticationException.
	HResultSystem int32 = -2146233087
)

// r7Member is a [DataMember] of ASC.Api: name is the wire name, field the Go field.
func r7Member(name, field, class string, k Kind, omit bool) Member {
	return Member{Name: name, Field: field, Class: class, Kind: k, OmitDefault: omit}
}

var (
	apiStatus = &Enum{
		CLRName: "ASC.Api.Enums.ApiStatus",
		Go:      reflect.TypeFor[ApiStatus](),
		Values:  []EnumValue{{"Ok", 0}, {"Error", 1}},
	}
	setPhoneRequest = &Contract{
		Name: "SetPhoneRequest", NS: r7ModelsNS, Direction: Request,
		Go: reflect.TypeFor[SetPhoneRequest](),
		Members: members("SetPhoneRequest", r7ModelsNS,
			Member{Name: "userName", Field: "UserName", Kind: String, Doc: "Имя пользователя или адрес электронной почты"},
			Member{Name: "password", Field: "Password", Kind: String, Doc: "Пароль"},
			Member{Name: "provider", Field: "Provider", Kind: String, Doc: "Тип провайдера социальных сетей"},
			Member{Name: "accessToken", Field: "AccessToken", Kind: String, Doc: "Токен провайдера"},
			Member{Name: "mobilePhone", Field: "MobilePhone", Kind: String, Doc: "Новый мобильный телефон"},
		),
	}
	authenticationRequest = &Contract{
		Name: "AuthenticationRequest", NS: r7ModelsNS, Direction: Request,
		Go: reflect.TypeFor[AuthenticationRequest](),
		Members: members("AuthenticationRequest", r7ModelsNS,
			Member{Name: "userName", Field: "UserName", Kind: String, Doc: "User name or email"},
			Member{Name: "password", Field: "Password", Kind: String, Doc: "Password"},
			Member{Name: "provider", Field: "Provider", Kind: String, Doc: "Social media provider type"},
			Member{Name: "accessToken", Field: "AccessToken", Kind: String, Doc: "Provider token"},
			Member{Name: "codeOAuth", Field: "CodeOAuth", Kind: String, Doc: "Code for take token"},
		),
	}
	authenticationTokenData = &Contract{
		Name: "token", Ordered: true, Go: reflect.TypeFor[AuthenticationTokenData](),
		Members: []Member{ // [DataMember(Order = 1..6)]
			r7Member("token", "Token", "token", String, false),
			r7Member("expires", "Expires", "token", ApiDateTimeKind, true),
			r7Member("sms", "Sms", "token", Bool, true),
			r7Member("phoneNoise", "PhoneNoise", "token", String, true),
			r7Member("tfa", "Tfa", "token", Bool, true),
			r7Member("tfaKey", "TfaKey", "token", String, true),
		},
	}
	errorWrapper = &Contract{
		Name: "error", Ordered: true, Go: reflect.TypeFor[ErrorWrapper](),
		Members: []Member{ // message Order 2, the rest Order 3 in declaration order
			r7Member("message", "Message", "error", String, true),
			r7Member("type", "Type", "error", String, true),
			r7Member("stack", "Stack", "error", String, true),
			r7Member("hresult", "HResult", "error", Int32, true),
			r7Member("data", "Data", "error", DictKind, true),
		},
	}
	envelopeMembers = []Member{ // [DataMember(Order = 10, 11, 12, 13, 100, 101, 200, 210)]
		r7Member("count", "Count", "result", Int64, true),
		r7Member("startIndex", "StartIndex", "result", Int64, true),
		{Name: "nextIndex", Field: "NextIndex", Class: "result", Kind: NullableInt64, OmitDefault: true},
		{Name: "total", Field: "Total", Class: "result", Kind: NullableInt64, OmitDefault: true},
		{Name: "status", Field: "Status", Class: "result", Kind: EnumKind, Enum: apiStatus},
		r7Member("statusCode", "StatusCode", "result", Int64, true),
		{Name: "response", Field: "Response", Class: "result", Kind: Object, Elem: authenticationTokenData, OmitDefault: true},
		{Name: "error", Field: "Error", Class: "result", Kind: Object, Elem: errorWrapper, OmitDefault: true},
	}
	setPhoneResponse = &Contract{
		Name: "SetPhoneResponse", Ordered: true, Direction: Response, Go: reflect.TypeFor[Envelope](), Members: envelopeMembers,
	}
	authenticationResponse = &Contract{
		Name: "AuthenticationResponse", Ordered: true, Direction: Response, Go: reflect.TypeFor[Envelope](),
		Members: append([]Member(nil), envelopeMembers...),
	}
	// R7Office is R7-Office's two-factor authentication face.
	R7Office = register(&App{ID: "r7office", Seed: "001", ASCAPI: true},
		setPhoneRequest, setPhoneResponse, authenticationRequest, authenticationResponse)
)

// Envelope names of the XML converted from ASC.Api's JSON.
const r7Root = "result"

// Ticks of .NET DateTime: 100 ns since 0001-01-01T00:00:00.
const (
	ticksPerSecond = 10_000_000
	ticksPerDay    = 86400 * ticksPerSecond
	maxTicks       = 3155378975999999999 // DateTime.MaxValue
	unixEpochTicks = 621355968000000000
)

// ApiDateTime is ASC.Specific.ApiDateTime: a UTC instant and the tenant's offset, written as the local
// wall-clock time with seven fraction digits followed by "Z" or "+hh:mm".
type ApiDateTime struct {
	UTCTicks int64         // .NET ticks of the UTC instant; 0 is DateTime.MinValue, which is never shifted
	Offset   time.Duration // the tenant's UTC offset, whole minutes, at most 14 h
}

// NewApiDateTime returns the ApiDateTime of t in a tenant whose offset is offset.
func NewApiDateTime(t time.Time, offset time.Duration) *ApiDateTime {
	u := t.UTC()
	ticks := unixEpochTicks + u.Unix()*ticksPerSecond + int64(u.Nanosecond()/100)
	return &ApiDateTime{UTCTicks: ticks, Offset: offset.Truncate(time.Minute)}
}

// Time returns the instant (not meaningful for DateTime.MinValue).
func (d *ApiDateTime) Time() time.Time {
	t := d.UTCTicks - unixEpochTicks
	return time.Unix(t/ticksPerSecond, (t%ticksPerSecond)*100).UTC()
}

// String is ApiDateTime.ToString().
func (d *ApiDateTime) String() string { return string(d.appendText(nil)) }

func (d *ApiDateTime) appendText(dst []byte) []byte {
	local := d.UTCTicks
	if local != 0 {
		local += int64(d.Offset / 100)
	}
	days := local / ticksPerDay
	rem := local % ticksPerDay
	date := time.Date(1, 1, 1+int(days), 0, 0, 0, 0, time.UTC)
	y, m, dd := date.Date()
	dst = appendPadded(dst, int64(y), 4)
	dst = append(dst, '-')
	dst = appendPadded(dst, int64(m), 2)
	dst = append(dst, '-')
	dst = appendPadded(dst, int64(dd), 2)
	dst = append(dst, 'T')
	secs := rem / ticksPerSecond
	dst = appendPadded(dst, secs/3600, 2)
	dst = append(dst, ':')
	dst = appendPadded(dst, secs/60%60, 2)
	dst = append(dst, ':')
	dst = appendPadded(dst, secs%60, 2)
	dst = append(dst, '.')
	dst = appendPadded(dst, rem%ticksPerSecond, 7)
	if d.Offset == 0 {
		return append(dst, 'Z')
	}
	off := d.Offset
	sign := byte('+')
	if off < 0 {
		sign, off = '-', -off
	}
	dst = append(dst, sign)
	dst = appendPadded(dst, int64(off/time.Hour), 2)
	dst = append(dst, ':')
	return appendPadded(dst, int64(off%time.Hour/time.Minute), 2)
}

func appendPadded(dst []byte, v int64, width int) []byte {
	var digits [20]byte
	s := strconv.AppendInt(digits[:0], v, 10) // not FormatInt: that allocates for v >= 100
	for i := len(s); i < width; i++ {
		dst = append(dst, '0')
	}
	return append(dst, s...)
}

var errApiDateTime = errors.New("expires must look like 2022-10-02T14:03:03.7135419Z or 2022-10-02T17:03:03.7135419+03:00")

// ParseApiDateTime reads exactly what ApiDateTime.ToString writes (offsets of at most 14 hours, never
// "+00:00").
func ParseApiDateTime(s string) (*ApiDateTime, error) {
	if len(s) != 28 && len(s) != 33 {
		return nil, errApiDateTime
	}
	digits := func(from, to int) (int64, bool) {
		var v int64
		for i := from; i < to; i++ {
			if s[i] < '0' || s[i] > '9' {
				return 0, false
			}
			v = v*10 + int64(s[i]-'0')
		}
		return v, true
	}
	sep := map[int]byte{4: '-', 7: '-', 10: 'T', 13: ':', 16: ':', 19: '.'}
	for i, c := range sep {
		if s[i] != c {
			return nil, errApiDateTime
		}
	}
	y, ok1 := digits(0, 4)
	mo, ok2 := digits(5, 7)
	d, ok3 := digits(8, 10)
	h, ok4 := digits(11, 13)
	mi, ok5 := digits(14, 16)
	se, ok6 := digits(17, 19)
	frac, ok7 := digits(20, 27)
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6 && ok7) || y < 1 || mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || se > 59 {
		return nil, errApiDateTime
	}
	date := time.Date(int(y), time.Month(mo), int(d), 0, 0, 0, 0, time.UTC)
	if date.Day() != int(d) {
		return nil, errApiDateTime
	}
	days := daysFromCivil(y, mo, d)
	local := unixEpochTicks + days*ticksPerDay + ((h*60+mi)*60+se)*ticksPerSecond + frac
	var off time.Duration
	if len(s) == 33 {
		oh, ok1 := digits(28, 30)
		om, ok2 := digits(31, 33)
		if !ok1 || !ok2 || s[30] != ':' || (s[27] != '+' && s[27] != '-') || oh > 14 || om > 59 || oh == 0 && om == 0 {
			return nil, errApiDateTime
		}
		off = time.Duration(oh)*time.Hour + time.Duration(om)*time.Minute
		if s[27] == '-' {
			off = -off
		}
	} else if s[27] != 'Z' {
		return nil, errApiDateTime
	}
	if local == 0 {
		return &ApiDateTime{Offset: off}, nil
	}
	utc := local - int64(off/100)
	if utc <= 0 || utc >= maxTicks {
		return nil, fmt.Errorf("instant out of range in %q", s)
	}
	return &ApiDateTime{UTCTicks: utc, Offset: off}, nil
}

// daysFromCivil counts days from 1970-01-01 to a proleptic Gregorian date (H. Hinnant's algorithm), for
// years that time.Duration cannot span.
func daysFromCivil(y, m, d int64) int64 {
	if m <= 2 {
		y--
	}
	era := y / 400
	if y < 0 && y%400 != 0 {
		era--
	}
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}

// ASC.Api's answers that are not the envelope's shape but its words: the messages and HResults of the
// exceptions AuthenticationEntryPoint and the framework end in (ONLYOFFICE/CommunityServer v12), each an
// ErrorWrapper of the innermost exception.
const (
	// R7AuthFailed is AuthenticationException("User authentication failed").
	R7AuthFailed = "User authentication failed"
	// R7LoginBlocked is GetUser's AuthenticationException when BruteForceLoginManager refuses.
	R7LoginBlocked = "Login Fail. Too many attempts"
	// R7MethodAccess is new MethodAccessException()'s message (SmsManager.PutAuthCode for a user whose
	// second factor is not SMS).
	R7MethodAccess = "Attempt to access the method failed."
	// R7NotPersonal is RegisterUserOnPersonal's MethodAccessException outside personal.onlyoffice.com.
	R7NotPersonal = "Method is only available on personal.onlyoffice.com"
	// R7AccessDenied is the SecurityException of the login route's e-mail key check.
	R7AccessDenied = "Access Denied."
)

// R7ArgumentNull is ArgumentNullException(param)'s message as Mono writes it on Linux.
func R7ArgumentNull(param string) string { return "Value cannot be null.\nParameter name: " + param }

// R7Culture is the language of ONLYOFFICE's PublicResources the tenant runs in.
type R7Culture string

// The cultures aspgate has the resources of: R7-Office serves Russian.
const (
	R7Russian R7Culture = "ru"
	R7English R7Culture = "en"
)

// R7Resource is a string of ONLYOFFICE's web/studio/ASC.Web.Studio/PublicResources/Resource(.ru).resx.
type R7Resource int

// The resources SmsManager throws with.
const (
	R7SmsTooMuch               R7Resource = iota // SmsTooMuchError: GenerateKey refused (send limits)
	R7EmptyPhone                                 // ActivateMobilePhoneEmptyPhoneNumber: setphone without digits
	R7PhoneMustErase                             // MobilePhoneMustErase: setphone over a confirmed phone
	R7SmsAuthenticationTimeout                   // SmsAuthenticationTimeout (not answered: {code} says R7AuthFailed)
)

var r7Resources = map[R7Culture][]string{
	R7English: {
		"You have sent too many text messages. Please try again later.",
		"Enter mobile phone number",
		"To change the number, you need to delete your current phone number",
		"Time to use the code has expired. Please request a new text message.",
	},
	R7Russian: {
		"Вы отправили слишком много текстовых сообщений. Пожалуйста, повторите попытку позже.",
		"Введите номер мобильного телефона",
		"Для смены номера телефона необходимо удалить текущий номер",
		"Время использования кода истекло. Пожалуйста, запросите новое текстовое сообщение.",
	},
}

// Text is the resource in the culture (English for an unknown one).
func (c R7Culture) Text(r R7Resource) string {
	if t, ok := r7Resources[c]; ok {
		return t[r]
	}
	return r7Resources[R7English][r]
}
