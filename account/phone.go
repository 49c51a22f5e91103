package account

import "strings"

// maxPhoneDigits is where ONLYOFFICE cuts a phone number.
const maxPhoneDigits = 64

// PhoneDigits normalises a phone number as ONLYOFFICE does (SmsSender.GetPhoneValueDigits): every
// character that is not an ASCII digit is dropped and the rest cut to 64 digits. "+7 (999) 123-45-67"
// gives "79991234567". Only ASCII digits are kept (.NET's \d also matches other scripts' digits, which the
// users table refuses).
func PhoneDigits(phone string) string {
	var b strings.Builder
	for i := 0; i < len(phone) && b.Len() < maxPhoneDigits; i++ {
		if c := phone[i]; c >= '0' && c <= '9' {
			b.WriteByte(c)
		}
	}
	return b.String()
}

// PhoneNoise masks a phone number for the phoneNoise member the way ONLYOFFICE does, so an R7 client
// shows what it always showed. The rule is that of SmsSender.BuildPhoneNoise in ONLYOFFICE Community
// Server (web/core/ASC.Web.Core/Sms/SmsSender.cs; SmsManager.BuildPhoneNoise in older versions), read
// there and written anew: empty input gives ""; the number is reduced to its digits (PhoneDigits);
// fewer than 8 digits are returned as they are, unmasked and without "+"; otherwise "+", the first 4
// digits, one "*" for each digit in between, and the last 4: "79991234567" gives "+7999***4567".
func PhoneNoise(phone string) string {
	if phone == "" {
		return ""
	}
	d := PhoneDigits(phone)
	const head, tail = 4, 4
	if len(d) < head+tail {
		return d
	}
	return "+" + d[:head] + strings.Repeat("*", len(d)-head-tail) + d[len(d)-tail:]
}
