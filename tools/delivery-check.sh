#!/bin/sh
# delivery-check: proves that `aspgate serve` delivers codes and links end to end, as an outside checker
# would. It builds aspgate and tools/mailsink into a temporary folder, starts mailsink (a local SMTP server
# and SMS webhook that fails the first SMS with 500) and `aspgate serve` pointed at it, with a fresh
# database, asks for a code by phone, a code by e-mail and an aries change link, reads them from what
# mailsink received and uses each of them. Prints PASS/FAIL lines and `aspgate outbox list`; exits 0 only
# if every check passed. Needs Go, curl and a POSIX shell.
#
#   sh tools/delivery-check.sh        (or: make delivery-check)
#
# The SMS code is used before the e-mail code is asked for: a new code supersedes the user's earlier one.
set -eu

cd "$(dirname "$0")/.."
GO=${GO:-go}
TIMEOUT=${DELIVERY_CHECK_TIMEOUT:-30} # seconds to wait for each delivery

tmp=$(mktemp -d "${TMPDIR:-/tmp}/delivery-check.XXXXXX")
sink_pid=
gate_pid=
cleanup() {
	rc=$?
	trap - EXIT INT TERM
	for pid in $gate_pid $sink_pid; do
		kill "$pid" 2>/dev/null || true
	done
	for pid in $gate_pid $sink_pid; do
		wait "$pid" 2>/dev/null || true
	done
	rm -rf "$tmp"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

NAME=delivery-check
. tools/checklib.sh

# post PATH JSON: POSTs JSON to the gateway; prints "STATUS BODY".
post() {
	curl -sS -o "$tmp/body" -w '%{http_code} ' -H 'Content-Type: application/json' --data "$2" "$base$1" || true
	cat "$tmp/body" 2>/dev/null || true
	echo
}

# messages KIND: what mailsink received so far, one JSON object a line (and the array's brackets).
messages() { curl -sS --max-time 5 "http://$sink_http/messages?kind=$1"; }
sms_accepted() { messages sms | grep '"status":200'; }
code_mail() { messages mail | grep '"status":250' | grep '"to":\["ivan@example.com"\]' | grep -v 'reset\.example'; }
link_mail() { messages mail | grep '"status":250' | grep 'reset\.example'; }
# sent_outbox: prints yes when the outbox holds 3 messages, all sent.
sent_outbox() {
	list=$("$tmp/aspgate" outbox list --db "$db" --json)
	[ "$(printf '%s\n' "$list" | grep -c .)" -eq 3 ] && [ "$(printf '%s\n' "$list" | grep -c '"status":"sent"')" -eq 3 ] && echo yes
}

echo "== building aspgate and mailsink"
"$GO" build -o "$tmp/aspgate" ./cmd/aspgate
"$GO" build -o "$tmp/mailsink" ./tools/mailsink

echo "== starting mailsink (the first SMS gets a 500)"
"$tmp/mailsink" --smtp 127.0.0.1:0 --http 127.0.0.1:0 --fail-sms 1 >"$tmp/sink.out" 2>"$tmp/sink.err" &
sink_pid=$!
ready=$(until_found 10 first_line '"kind":"ready"' "$tmp/sink.out") || die "mailsink did not start"
sink_smtp=$(printf '%s\n' "$ready" | str smtp)
sink_http=$(printf '%s\n' "$ready" | str http)
echo "   SMTP $sink_smtp, HTTP $sink_http"

echo "== starting aspgate serve"
db="$tmp/aspgate.db"
"$tmp/aspgate" serve --addr 127.0.0.1:0 --admin-addr 127.0.0.1:0 --db "$db" \
	--smtp-url "smtp://$sink_smtp?tls=none" --mail-from 'Check <noreply@check.example>' \
	--sms-url "http://$sink_http/sms" --sms-header 'X-Api-Key: check' \
	--outbox-backoff 200ms --link-base-url https://reset.example/change \
	--limit-recipient-minute 10 2>"$tmp/aspgate.log" & # one account, three sends within the minute
gate_pid=$!
listening=$(until_found 20 first_line '"msg":"listening"' "$tmp/aspgate.log") || die "aspgate serve did not start"
base="http://$(printf '%s\n' "$listening" | str addr)"
echo "   $base"

user=$("$tmp/aspgate" user add --db "$db" --email ivan@example.com --phone 79991234567 --username ivan \
	--password 'Old-password-1') || die "aspgate user add failed"
uid=$(printf '%s\n' "$user" | sed -n 's/.*"id":\([0-9][0-9]*\).*/\1/p')
key=$("$tmp/aspgate" apikey add --db "$db" --app aries --name check | tr -d '[:space:]') || die "aspgate apikey add failed"
[ -n "$uid" ] && [ -n "$key" ] || die "no user id or API key: $user"
echo "   user ivan has UserId $uid; aries key added"
echo

# 1. A code by SMS: refused once with 500, retried, then used with ereader ResetPassword.
r=$(post /api/user/RememberMessage '{"Phone":79991234567}')
case $r in
'200 '*'"ErrorCode":0'*) pass "lcmanager RememberMessage by phone: 200, ErrorCode 0" ;;
*) fail "lcmanager RememberMessage by phone answered: $r" ;;
esac
if sms=$(until_found "$TIMEOUT" sms_accepted); then
	all=$(messages sms)
	first=$(printf '%s\n' "$all" | grep '"kind":"sms"' | head -n 1)
	code=$(printf '%s\n' "$sms" | str text | grep -o -E '(^|[^0-9])[0-9]{6}([^0-9]|$)' | tr -cd '0-9')
	idem=$(printf '%s\n' "$sms" | str idempotency_key)
	if printf '%s\n' "$first" | grep -q '"status":500' && [ -n "$idem" ] &&
		[ "$(printf '%s\n' "$first" | str idempotency_key)" = "$idem" ] &&
		[ "$(printf '%s\n' "$all" | grep -c '"kind":"sms"')" -eq 2 ]; then
		pass "SMS delivered after one 500 and one retry, same Idempotency-Key"
	else
		fail "SMS requests are not one 500 then one 200 with the same Idempotency-Key: $all"
	fi
	if [ "$(printf '%s\n' "$sms" | str to)" = 79991234567 ] && printf '%s\n' "$sms" | grep -q '"X-Api-Key":"check"' &&
		[ ${#code} -eq 6 ]; then
		pass "SMS to 79991234567 with X-Api-Key and a 6-digit code: $(printf '%s\n' "$sms" | str text)"
	else
		fail "SMS lacks the recipient, the header or a code: $sms"
	fi
	r=$(post /api/Account/ResetPassword '{"UserId":'"$uid"',"Code":"'"$code"'","NewPassword":"Brand-new-pass-1"}')
	case $r in
	*'Password has been reset.'*) pass "ereader ResetPassword with the SMS code: Password has been reset." ;;
	*) fail "ereader ResetPassword with the SMS code $code answered: $r" ;;
	esac
else
	fail "no SMS accepted within ${TIMEOUT}s: $(messages sms | tr -d "\n")"
fi

# 2. A code by e-mail and aries' change link by e-mail.
r=$(post /api/user/RememberMessage '{"Email":"ivan@example.com"}')
case $r in
'200 '*'"ErrorCode":0'*) pass "lcmanager RememberMessage by e-mail: 200, ErrorCode 0" ;;
*) fail "lcmanager RememberMessage by e-mail answered: $r" ;;
esac
r=$(post /API/Account/ForgotPassword '{"userName":"ivan","apiKey":"'"$key"'"}')
case $r in
'200 {"status":1,'*) pass "aries ForgotPassword: 200, status 1 (Success)" ;;
*) fail "aries ForgotPassword answered: $r" ;;
esac
link_re='https://reset\.example/change\?id=[A-Za-z0-9_%-]+'
if mail=$(until_found "$TIMEOUT" code_mail); then
	code=$(printf '%s\n' "$mail" | head -n 1 | str text | grep -o -E '(^|[^0-9])[0-9]{6}([^0-9]|$)' | head -n 1 | tr -cd '0-9')
	if [ ${#code} -eq 6 ] && [ "$(printf '%s\n' "$mail" | head -n 1 | str from)" = noreply@check.example ] &&
		printf '%s\n' "$mail" | head -n 1 | str html | grep -q "$code"; then
		pass "e-mail with the code: \"$(printf '%s\n' "$mail" | head -n 1 | str subject)\", code in text and HTML"
		r=$(post /api/Account/ResetPassword '{"UserId":'"$uid"',"Code":"'"$code"'","NewPassword":"Brand-new-pass-2"}')
		case $r in
		*'Password has been reset.'*) pass "ereader ResetPassword with the e-mailed code: Password has been reset." ;;
		*) fail "ereader ResetPassword with the e-mailed code $code answered: $r" ;;
		esac
	else
		fail "the code e-mail lacks a code, the sender or the HTML part: $mail"
	fi
else
	fail "no e-mail with a code within ${TIMEOUT}s: $(messages mail | tr -d "\n")"
fi
if linkmail=$(until_found "$TIMEOUT" link_mail); then
	link=$(printf '%s\n' "$linkmail" | head -n 1 | str text | grep -o -E "$link_re" | head -n 1)
	if [ -n "$link" ]; then
		pass "e-mail with the change link: $link"
		id=${link#*id=}
		r=$(post /api/Customer/PasswordChange '{"ChangeRequestId":"'"$id"'","Password":"Brand-new-pass-3"}')
		case $r in
		'200 '*'"Code":9001'*) pass "customer PasswordChange with the link's id: Code 9001 (PasswordChanged)" ;;
		*) fail "customer PasswordChange with the link's id answered: $r" ;;
		esac
	else
		fail "the link e-mail has no link: $linkmail"
	fi
else
	fail "no e-mail with a link within ${TIMEOUT}s: $(messages mail | tr -d "\n")"
fi

# 3. The outbox records every message as sent (the dispatcher marks it just after the provider's answer).
if until_found 10 sent_outbox >/dev/null; then
	pass "outbox: 3 messages, all sent"
else
	fail "outbox: not 3 messages all sent"
fi

echo
echo "== aspgate outbox list"
"$tmp/aspgate" outbox list --db "$db" || true

echo
if [ "$failed" -eq 0 ]; then
	echo "delivery-check: PASS ($passed checks passed)"
else
	echo "delivery-check: FAIL ($failed of $((passed + failed)) checks failed)$failures"
	exit 1
fi
