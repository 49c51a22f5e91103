#!/bin/sh
# r7-check: proves r7office's sign-in end to end as an outside checker would, knowing only the README and
# the CLI. It builds aspgate into a temporary folder and starts `aspgate serve` on a free loopback port with
# a fresh database, a random introspection secret and the tenant offset +03:00; then it
#   - adds a user, enrols an authenticator app (`aspgate totp enroll --qr`) and reads the printed secret,
#   - computes TOTP codes from that secret with its own RFC 6238 implementation (python3: hmac, base64),
#   - signs in (tfa), exchanges a code for a token, replays codes (JSON and .xml), introspects the token,
#     checks it with `aspgate token check` and revokes it with `aspgate token revoke`,
#   - runs the SMS path: setphone, the code read with `aspgate outbox list --json`, {code}.xml,
#   - resends the SMS code with sendsms.json until the send limit answers ONLYOFFICE's message, then signs
#     in with the newest code; signs in 25 times in a row; blocks a login with 5 failures (ONLYOFFICE's
#     "Login Fail. Too many attempts") while its e-mail and other addresses still sign in,
#   - compares status lines, Content-Type and bodies with the recorded exchanges in
#     testdata/golden/requests (75, 76) and the README, and unknown users with wrong passwords.
# Prints PASS/FAIL lines; exits 0 only if every check passed. Needs Go, curl, python3 and a POSIX shell.
#
#   sh tools/r7-check.sh        (or: make r7-check)
#
# A TOTP code is only computed with more than 2 s left in its 30-second step (else the next step is awaited).
set -eu

cd "$(dirname "$0")/.."
GO=${GO:-go}
TIMEOUT=${R7_CHECK_TIMEOUT:-20} # seconds to wait for the server and for the SMS code
RECORDINGS=testdata/golden/requests
OFFSET=+03:00

tmp=$(mktemp -d "${TMPDIR:-/tmp}/r7-check.XXXXXX")
gate_pid=
cleanup() {
	rc=$?
	trap - EXIT INT TERM
	if [ -n "$gate_pid" ]; then
		kill "$gate_pid" 2>/dev/null || true
		wait "$gate_pid" 2>/dev/null || true
	fi
	rm -rf "$tmp"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

NAME=r7-check
. tools/checklib.sh
check() { # check DESCRIPTION CMD...: PASS when CMD succeeds
	_check=$1
	shift
	if "$@"; then pass "$_check"; else fail "$_check"; fi
}

cr=$(printf '\r')

# http NAME CURL-ARGS...: one request with `curl -si`; the raw answer goes to $tmp/NAME.raw, split into
# NAME.status (the status line), NAME.hdr (the header lines; both without CR) and NAME.body (the body's
# exact bytes). Sets $st (status line), $ct (Content-Type) and $bd (the body, trailing newlines dropped).
http() {
	_hn=$1
	shift
	curl -si --max-time 10 "$@" >"$tmp/$_hn.raw" 2>"$tmp/$_hn.err" || true
	head -n 1 "$tmp/$_hn.raw" | tr -d '\r' >"$tmp/$_hn.status"
	sed -n "2,/^$cr*\$/p" "$tmp/$_hn.raw" | tr -d '\r' | sed '/^$/d' >"$tmp/$_hn.hdr"
	_hlen=$(sed -n "1,/^$cr*\$/p" "$tmp/$_hn.raw" | wc -c)
	tail -c +$((_hlen + 1)) "$tmp/$_hn.raw" >"$tmp/$_hn.body"
	st=$(cat "$tmp/$_hn.status")
	ct=$(header "$_hn" Content-Type)
	bd=$(cat "$tmp/$_hn.body")
	if [ -z "$st" ]; then
		st="(no answer: $(cat "$tmp/$_hn.err"))"
	fi
}
# header NAME HEADER: the value of HEADER in the answer NAME.
header() { grep -i "^$2:" "$tmp/$1.hdr" | head -n 1 | sed 's/^[^:]*: *//'; }
# body_is NAME TEXT: the body of NAME is exactly TEXT (no trailing newline).
body_is() { printf '%s' "$2" | cmp -s - "$tmp/$1.body"; }
# body_matches NAME ERE: the body of NAME is one line, without a trailing newline, matching ^ERE$.
body_matches() { [ "$(wc -l <"$tmp/$1.body")" -eq 0 ] && grep -Eq "^$2\$" "$tmp/$1.body"; }
# signature NAME: status line, headers but Date, body: what must not tell two answers apart.
signature() { cat "$tmp/$1.status" && grep -iv '^date:' "$tmp/$1.hdr" && cat "$tmp/$1.body"; }
show() { printf '%s | %s | %s' "$st" "$ct" "$bd"; }
# active [UID]: the last answer is introspection's 200 {"active":true,...} (for UID); inactive: {"active":false}.
active() { [ "$st" = 'HTTP/1.1 200 OK' ] && printf '%s\n' "$bd" | grep -q '^{"active":true,"sub":"'"${1:-}"; }
inactive() { [ "$st" = 'HTTP/1.1 200 OK' ] && [ "$bd" = '{"active":false}' ]; }

r7json() { # r7json NAME PATH JSON
	http "$1" -H 'Content-Type: application/json' --data-binary "$3" "$base$2"
}
introspect() { # introspect NAME TOKEN [CURL-ARGS...] (default: HTTP Basic any:<secret>)
	_in=$1 _it=$2
	shift 2
	if [ $# -eq 0 ]; then set -- -u "any:$secret"; fi
	http "$_in" "$@" --data-urlencode "token=$_it" "$base/connect/introspect"
}

# The recorded exchanges: line 1 the request (`$ mono bin/oracle.exe request <app> <METHOD> <path>
# [-H 'h: v']... [--body-file f]`), line 2 the status line, header lines, a blank line, the body and a
# newline. replay NAME FILE sends the request; same_as_recording NAME FILE compares the answer NAME with
# the recording: status line, each recorded header line, body byte for byte.
replay() {
	_rn=$1
	_rline=$(head -n 1 "$2")
	_rmethod=$(printf '%s\n' "$_rline" | awk '{print $6}')
	_rpath=$(printf '%s\n' "$_rline" | awk '{print $7}')
	_rbody=$(printf '%s\n' "$_rline" | sed -n "s/.*--body-file \([^ ']*\).*/\1/p")
	set -- -X "$_rmethod"
	while IFS= read -r h; do
		[ -n "$h" ] && set -- "$@" -H "$h"
	done <<EOF
$(printf '%s\n' "$_rline" | grep -o "\-H '[^']*'" | sed "s/^-H '//; s/'\$//")
EOF
	if [ -n "$_rbody" ]; then
		set -- "$@" --data-binary "@$RECORDINGS/bodies/$(basename "$_rbody")"
	fi
	http "$_rn" "$@" "$base$_rpath"
}
same_as_recording() {
	_sn=$1 _srec=$2
	[ "$(sed -n 2p "$_srec")" = "$(cat "$tmp/$_sn.status")" ] || return 1
	while IFS= read -r h; do
		grep -qxF "$h" "$tmp/$_sn.hdr" || return 1
	done <<EOF
$(sed -n '3,/^$/p' "$_srec" | sed '/^$/d')
EOF
	_slen=$(sed -n '1,/^$/p' "$_srec" | wc -c)
	tail -c +$((_slen + 1)) "$_srec" >"$tmp/$_sn.recbody"
	{ cat "$tmp/$_sn.body" && echo; } | cmp -s - "$tmp/$_sn.recbody"
}
recorded() { printf '%s | %s | %s' "$(sed -n 2p "$1")" "$(sed -n '3,/^$/p' "$1" | sed -n 's/^Content-Type: //p')" \
	"$(tail -c +$(($(sed -n '1,/^$/p' "$1" | wc -c) + 1)) "$1")"; }

# The independent TOTP (RFC 6238: HMAC-SHA1, 6 digits, 30 s), with python3's standard library only.
cat >"$tmp/totp.py" <<'PY'
import base64, datetime, hashlib, hmac, struct, sys, time

def hotp(key, counter, digits=6):
    mac = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    off = mac[-1] & 0x0F
    value = (struct.unpack(">I", mac[off:off + 4])[0] & 0x7FFFFFFF) % 10 ** digits
    return "%0*d" % (digits, value)

def key_of(secret):
    s = secret.strip().replace(" ", "").upper()
    return base64.b32decode(s + "=" * (-len(s) % 8))

cmd = sys.argv[1]
if cmd == "selftest":  # RFC 6238 appendix B, SHA1 (8 digits) and the same codes cut to 6
    key = b"12345678901234567890"
    for t, want in ((59, "94287082"), (1111111109, "07081804"), (1234567890, "89005924"), (2000000000, "69279037")):
        if hotp(key, t // 30, 8) != want or hotp(key, t // 30, 6) != want[2:]:
            sys.exit("RFC 6238 vector T=%d failed" % t)
    print("ok")
elif cmd == "now":  # now SECRET: "STEP CODE" of the current step, with more than 2 s of it left
    left = 30 - time.time() % 30
    if left <= 2:
        time.sleep(left + 0.1)
    step = int(time.time()) // 30
    print(step, hotp(key_of(sys.argv[2]), step))
elif cmd == "at":  # at SECRET STEP: the code of STEP
    print(hotp(key_of(sys.argv[2]), int(sys.argv[3])))
elif cmd == "epoch":  # epoch APIDATETIME: its Unix time (seconds, floored)
    s = sys.argv[2]
    base, frac = s[:19], s[20:27]
    off = s[27:]
    t = datetime.datetime.strptime(base, "%Y-%m-%dT%H:%M:%S")
    sign = 1 if off[0] == "+" else -1
    delta = datetime.timedelta(hours=int(off[1:3]), minutes=int(off[4:6])) * sign
    print(int((t - delta).replace(tzinfo=datetime.timezone.utc).timestamp()))
elif cmd == "unix":
    print(int(time.time()))
elif cmd == "year":  # year: seconds from now to the same time a calendar year later (AddYears(1))
    n = datetime.datetime.now(datetime.timezone.utc)
    try:
        later = n.replace(year=n.year + 1)
    except ValueError:  # 29 February
        later = n.replace(year=n.year + 1, day=28)
    print(int((later - n).total_seconds()))
PY
totp() { python3 "$tmp/totp.py" "$@"; }

APIDATE="[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{7}\\$OFFSET"
TOKEN_RE='[A-Za-z0-9_-]{43}'
FAILED_JSON='{"status":1,"statusCode":500,"error":{"message":"User authentication failed","hresult":-2146233087,"data":{}}}'
CT_JSON='application/json; charset=UTF-8'
CT_XML='text/xml; charset=UTF-8'
# near SECONDS_EXPECTED APIDATETIME: the date is within a minute of now + SECONDS_EXPECTED.
near() {
	printf '%s\n' "$2" | grep -Eqx "$APIDATE" || return 1
	_near=$(($(totp epoch "$2") - $(totp unix) - $1))
	[ "$_near" -ge -60 ] && [ "$_near" -le 60 ]
}

echo "== building aspgate"
"$GO" build -o "$tmp/aspgate" ./cmd/aspgate
check "independent TOTP (python3 hmac/base64) reproduces the RFC 6238 SHA1 test vectors" \
	[ "$(totp selftest)" = ok ]

echo "== starting aspgate serve"
db="$tmp/aspgate.db"
secret=$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')
[ ${#secret} -eq 32 ] || die "no random secret"
"$tmp/aspgate" serve --addr 127.0.0.1:0 --admin-addr 127.0.0.1:0 --db "$db" --introspect-secret "$secret" \
	--tenant-utc-offset "$OFFSET" --limit-recipient-minute 10 2>"$tmp/aspgate.log" &
gate_pid=$!
listening=$(until_found "$TIMEOUT" first_line '"msg":"listening"' "$tmp/aspgate.log") || die "aspgate serve did not start"
base="http://$(printf '%s\n' "$listening" | str addr)"
echo "   $base"
# cli CMD SUBCMD ARGS...: aspgate CMD SUBCMD --db <the database> ARGS...
cli() {
	_c1=$1 _c2=$2
	shift 2
	"$tmp/aspgate" "$_c1" "$_c2" --db "$db" "$@" 2>>"$tmp/cli.log"
}
echo

# 1. A user with an authenticator app.
echo "== TOTP"
pw1='Ivan-password-1'
user1=$(cli user add --email ivan@example.com --username ivan --password "$pw1") || die "aspgate user add failed"
uid1=$(printf '%s\n' "$user1" | str uid)
printf '%s\n' "$uid1" | grep -Eqx '[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}' || die "no uid in: $user1"
echo "   user ivan: uid $uid1"
enrol=$(cli totp enroll --user ivan --qr "$tmp/qr.png") || die "aspgate totp enroll failed"
uri=$(printf '%s\n' "$enrol" | grep '^otpauth://' | head -n 1)
seed=$(printf '%s\n' "$enrol" | sed -n 's/^secret: //p' | head -n 1)
uri_secret=$(printf '%s\n' "$uri" | sed -n -E 's/.*[?&]secret=([^&]*).*/\1/p')
if [ -n "$seed" ] && [ "$uri_secret" = "$seed" ] && printf '%s\n' "$seed" | grep -Eqx '[A-Z2-7]{16,}=*' &&
	printf '%s\n' "$uri" | grep -q '^otpauth://totp/' &&
	printf '%s\n' "$uri" | grep -Eq '[?&]algorithm=SHA1(&|$)' &&
	printf '%s\n' "$uri" | grep -Eq '[?&]digits=6(&|$)' &&
	printf '%s\n' "$uri" | grep -Eq '[?&]period=30(&|$)'; then
	pass "totp enroll: otpauth://totp URI (SHA1, 6 digits, 30 s) with the same secret as the \"secret:\" line"
else
	fail "totp enroll printed no usable URI and secret: $enrol"
fi
check "totp enroll --qr wrote a PNG" [ "$(od -An -tx1 -N8 "$tmp/qr.png" 2>/dev/null | tr -d ' \n')" = 89504e470d0a1a0a ]

r7json a1 /api/2.0/authentication '{"userName":"ivan","password":"'"$pw1"'"}'
if [ "$st" = 'HTTP/1.1 201 Created' ] && [ "$ct" = "$CT_JSON" ] &&
	body_is a1 '{"count":1,"status":0,"statusCode":201,"response":{"token":null,"tfa":true}}'; then
	pass "authentication: 201, $CT_JSON, {\"token\":null,\"tfa\":true}"
else
	fail "authentication answered: $(show)"
fi

set -- $(totp now "$seed") - -
step=$1 code=$2
[ "$step" != - ] || die "python3 computed no TOTP code from the secret $seed"
r7json c1 "/api/2.0/authentication/$code" '{"userName":"ivan","password":"'"$pw1"'"}'
tok1=$(printf '%s\n' "$bd" | str token)
exp1=$(printf '%s\n' "$bd" | str expires)
if [ "$st" = 'HTTP/1.1 201 Created' ] && [ "$ct" = "$CT_JSON" ] &&
	body_matches c1 '\{"count":1,"status":0,"statusCode":201,"response":\{"token":"'"$TOKEN_RE"'","expires":"'"$APIDATE"'","tfa":true\}\}'; then
	pass "authentication/{TOTP code}: 201, a 43-character token, expires $exp1, tfa true"
else
	fail "authentication/$code (TOTP) answered: $(show)"
fi
YEAR=$(totp year)
check "the token expires in one calendar year (ONLYOFFICE's default), written in the tenant's offset $OFFSET" near "$YEAR" "$exp1"

r7json c2 "/api/2.0/authentication/$code" '{"userName":"ivan","password":"'"$pw1"'"}'
if [ "$st" = 'HTTP/1.1 500 Server error' ] && [ "$ct" = "$CT_JSON" ] && body_is c2 "$FAILED_JSON"; then
	pass "the same TOTP code replayed: HTTP/1.1 500 Server error, User authentication failed"
else
	fail "the replayed TOTP code answered: $(show)"
fi

rec76=$RECORDINGS/76-r7-code-xml-no-password.txt
http c3 --data-urlencode userName=ivan --data-urlencode "password=$pw1" "$base/api/2.0/authentication/$code.xml"
if same_as_recording c3 "$rec76"; then
	pass "the same code replayed to {code}.xml with a form body: the answer recorded in $(basename "$rec76")"
else
	fail "{code}.xml replay answered: $(show); recorded: $(recorded "$rec76")"
fi

prev=$(totp at "$seed" $((step - 1)))
r7json c4 "/api/2.0/authentication/$prev" '{"userName":"ivan","password":"'"$pw1"'"}'
if [ "$st" = 'HTTP/1.1 500 Server error' ] && body_is c4 "$FAILED_JSON"; then
	pass "the previous step's code after a later one was accepted: 500, User authentication failed"
else
	fail "the previous step's code $prev answered: $(show)"
fi

next=$(totp at "$seed" $((step + 1)))
r7json c5 "/api/2.0/authentication/$next" '{"userName":"ivan","password":"'"$pw1"'"}'
tok2=$(printf '%s\n' "$bd" | str token)
if [ "$st" = 'HTTP/1.1 201 Created' ] && [ -n "$tok2" ] && [ "$tok2" != "$tok1" ]; then
	pass "the next step's code (skew of one step): 201, a second token"
else
	fail "the next step's code $next answered: $(show)"
fi
r7json c6 "/api/2.0/authentication/$next" '{"userName":"ivan","password":"'"$pw1"'"}'
if [ "$st" = 'HTTP/1.1 500 Server error' ] && body_is c6 "$FAILED_JSON"; then
	pass "the next step's code replayed: 500, User authentication failed"
else
	fail "the next step's code replayed answered: $(show)"
fi
echo

# 2. The recorded exchanges, replayed verbatim.
echo "== recorded exchanges"
for rec in "$RECORDINGS/75-r7-code-no-body.txt" "$rec76"; do
	replay r "$rec"
	if same_as_recording r "$rec"; then
		pass "$(basename "$rec"): $st, $ct, body byte for byte as recorded"
	else
		fail "$(basename "$rec") answered: $(show); recorded: $(recorded "$rec")"
	fi
done
echo

# 3. Introspection, token check, token revoke.
echo "== introspection"
introspect i1 "$tok1"
iexp=$(printf '%s\n' "$bd" | num exp)
iiat=$(printf '%s\n' "$bd" | num iat)
if [ "$st" = 'HTTP/1.1 200 OK' ] &&
	printf '%s\n' "$bd" | grep -Eqx '\{"active":true,"sub":"'"$uid1"'","exp":[0-9]+,"iat":[0-9]+,"token_type":"Bearer"\}'; then
	pass "introspect (HTTP Basic): active, sub $uid1 (user add's uid), Bearer"
else
	fail "introspect answered: $(show)"
fi
if [ -n "$iexp" ] && [ -n "$iiat" ] && [ "$iexp" -eq "$(totp epoch "$exp1")" ] && [ $((iexp - iiat - YEAR)) -ge -60 ] && [ $((iexp - iiat - YEAR)) -le 60 ]; then
	pass "introspect: exp is the sign-in's expires, iat a year before it"
else
	fail "introspect exp/iat ($iexp/$iiat) do not fit expires $exp1"
fi
out=$(cli token check "$tok1" || true)
check "aspgate token check prints the same JSON as introspection" [ "$out" = "$bd" ]
out=$(printf '%s\n' "$tok1" | "$tmp/aspgate" token check --db "$db" - 2>>"$tmp/cli.log" || true)
check "aspgate token check - (token on stdin) prints it too" [ "$out" = "$bd" ]

introspect i2 "$tok1" -u "any:wrong-$secret"
check "introspect with a wrong secret: 401 ($st)" [ "$st" = 'HTTP/1.1 401 Unauthorized' ]
introspect i3 "$tok1" --data-urlencode "client_secret=x$secret"
check "introspect with a wrong client_secret: 401 ($st)" [ "$st" = 'HTTP/1.1 401 Unauthorized' ]
introspect i4 "$tok1" -H "Authorization: Bearer $secret"
check "introspect with the secret as Bearer: 200, active" active

out=$(cli token revoke "$tok1") && rc=0 || rc=$?
check "aspgate token revoke: exit 0 ($out)" [ "$rc" -eq 0 ]
introspect i5 "$tok1"
check "introspect after revoke: 200 {\"active\":false}" inactive
out=$(cli token check "$tok1" || true)
check "aspgate token check after revoke: {\"active\":false}" [ "$out" = '{"active":false}' ]
introspect i6 "$tok2"
check "the user's other token is still active" active
introspect i7 "x$tok2"
check "introspect of an unknown token: 200 {\"active\":false}" inactive
echo

# 4. The SMS path: setphone, the code from the outbox, {code}.xml.
echo "== SMS through setphone"
pw2='Petr-password-1'
user2=$(cli user add --email petr@example.com --username petr --password "$pw2") || die "aspgate user add failed"
uid2=$(printf '%s\n' "$user2" | str uid)
echo "   user petr: uid $uid2"
http s1 --data-urlencode userName=petr --data-urlencode "password=$pw2" \
	--data-urlencode 'mobilePhone=+7 (999) 000-11-22' "$base/api/2.0/authentication/setphone"
sexp=$(printf '%s\n' "$bd" | str expires)
if [ "$st" = 'HTTP/1.1 201 Created' ] && [ "$ct" = "$CT_JSON" ] &&
	body_matches s1 '\{"count":1,"status":0,"statusCode":201,"response":\{"token":null,"expires":"'"$APIDATE"'","sms":true,"phoneNoise":"\+7999\*\*\*1122"\}\}'; then
	pass "setphone (form): 201, token null, sms true, phoneNoise +7999***1122"
else
	fail "setphone answered: $(show)"
fi
check "the SMS code expires in 10 minutes, written in $OFFSET ($sexp)" near 600 "$sexp"

sms_line() { cli outbox list --json | grep '"kind":"login-code"' | grep '"to":"79990001122"' | head -n 1; }
if line=$(until_found "$TIMEOUT" sms_line); then
	smscode=$(printf '%s\n' "$line" | str code)
	check "outbox list --json: a login-code SMS to 79990001122 with a 6-digit code" \
		[ "$(printf '%s' "$smscode" | grep -Ec '^[0-9]{6}$')" -eq 1 ]
else
	smscode=000000
	fail "no login-code for 79990001122 in aspgate outbox list --json within ${TIMEOUT}s"
fi

http s2 --data-urlencode userName=petr --data-urlencode "password=$pw2" "$base/api/2.0/authentication/$smscode.xml"
tok3=$(sed -n 's:.*<token>\([^<]*\)</token>.*:\1:p' "$tmp/s2.body")
if [ "$st" = 'HTTP/1.1 201 Created' ] && [ "$ct" = "$CT_XML" ] &&
	body_matches s2 '<result><count>1</count><status>0</status><statusCode>201</statusCode><response><token>'"$TOKEN_RE"'</token><expires>'"$APIDATE"'</expires><sms>true</sms><phoneNoise>\+7999\*\*\*1122</phoneNoise></response></result>'; then
	pass "authentication/{SMS code}.xml (form): 201, $CT_XML, token, sms true, phoneNoise"
else
	fail "authentication/$smscode.xml answered: $(show)"
fi
introspect i8 "$tok3"
check "introspect the SMS sign-in's token: active, sub $uid2" active "$uid2"
http s3 --data-urlencode userName=petr --data-urlencode "password=$pw2" "$base/api/2.0/authentication/$smscode.xml"
if same_as_recording s3 "$rec76"; then
	pass "the SMS code replayed: the recorded failure (500 Server error, XML)"
else
	fail "the SMS code replayed answered: $(show)"
fi
echo

# 5. Unknown users and wrong passwords cannot be told apart (status line, headers but Date, body).
echo "== unknown user vs wrong password"
r7json u1 /api/2.0/authentication '{"userName":"nobody@example.com","password":"'"$pw1"'"}'
r7json w1 /api/2.0/authentication '{"userName":"ivan","password":"Wrong-password-1"}'
if signature u1 >"$tmp/u1.sig" && signature w1 >"$tmp/w1.sig" && cmp -s "$tmp/u1.sig" "$tmp/w1.sig" &&
	[ "$st" = 'HTTP/1.1 500 Server error' ] && [ "$ct" = "$CT_JSON" ] && body_is w1 "$FAILED_JSON"; then
	pass "authentication (JSON): unknown user and wrong password give identical answers ($st)"
else
	fail "authentication (JSON): unknown user: $(cat "$tmp/u1.hdr" "$tmp/u1.body" | tr '\n' ' '); wrong password: $(show)"
fi
http u2 --data-urlencode userName=nobody --data-urlencode "password=$pw2" "$base/api/2.0/authentication/123456.xml"
http w2 --data-urlencode userName=petr --data-urlencode password=Wrong-password-2 "$base/api/2.0/authentication/123456.xml"
if signature u2 >"$tmp/u2.sig" && signature w2 >"$tmp/w2.sig" && cmp -s "$tmp/u2.sig" "$tmp/w2.sig" &&
	same_as_recording w2 "$rec76"; then
	pass "{code}.xml (form): unknown user and wrong password give identical answers, as recorded"
else
	fail "{code}.xml: unknown user: $(cat "$tmp/u2.hdr" "$tmp/u2.body" | tr '\n' ' '); wrong password: $(show)"
fi
http u3 --data-urlencode userName=nobody --data-urlencode password=x \
	--data-urlencode 'mobilePhone=+7 (999) 000-33-44' "$base/api/2.0/authentication/setphone"
http w3 --data-urlencode userName=ivan --data-urlencode password=x \
	--data-urlencode 'mobilePhone=+7 (999) 000-33-44' "$base/api/2.0/authentication/setphone"
if signature u3 >"$tmp/u3.sig" && signature w3 >"$tmp/w3.sig" && cmp -s "$tmp/u3.sig" "$tmp/w3.sig" &&
	[ "$st" = 'HTTP/1.1 500 Server error' ] && body_is w3 "$FAILED_JSON"; then
	pass "setphone (form): unknown user and wrong password give identical answers ($st)"
else
	fail "setphone: unknown user: $(cat "$tmp/u3.hdr" "$tmp/u3.body" | tr '\n' ' '); wrong password: $(show)"
fi

echo

# 6. sendsms (the mobile client's "resend code") and ONLYOFFICE's brute-force rule.
echo "== sendsms and repeated sign-ins"
TOO_MANY_SMS='{"status":1,"statusCode":500,"error":{"message":"Вы отправили слишком много текстовых сообщений. Пожалуйста, повторите попытку позже.","hresult":-2146233088,"data":{}}}'
BLOCKED='{"status":1,"statusCode":500,"error":{"message":"Login Fail. Too many attempts","hresult":-2146233087,"data":{}}}'
petr_codes() { cli outbox list --json | grep '"kind":"login-code"' | grep -c '"to":"79990001122"'; }
newest_code() { cli outbox list --json | grep '"kind":"login-code"' | grep '"to":"79990001122"' | tail -n 1 | str code; }
r7json m1 /api/2.0/authentication.json '{"userName":"petr","password":"'"$pw2"'"}'
if [ "$st" = 'HTTP/1.1 201 Created' ] && body_matches m1 '\{"count":1,"status":0,"statusCode":201,"response":\{"token":null,"expires":"'"$APIDATE"'","sms":true,"phoneNoise":"\+7999\*\*\*1122"\}\}'; then
	pass "sign-in with the confirmed phone: 201, sms true, phoneNoise"
else
	fail "sign-in with the confirmed phone answered: $(show)"
fi
resent=0
for i in 1 2 3; do
	r7json m2 /api/2.0/authentication/sendsms.json '{"userName":"petr","password":"'"$pw2"'"}'
	if [ "$st" = 'HTTP/1.1 201 Created' ] && body_matches m2 '\{"count":1,"status":0,"statusCode":201,"response":\{"token":null,"expires":"'"$APIDATE"'","sms":true,"phoneNoise":"\+7999\*\*\*1122"\}\}'; then
		resent=$((resent + 1))
	else
		fail "sendsms.json #$i answered: $(show)"
	fi
done
check "sendsms.json three times: 201 each, {token:null, expires, sms:true, phoneNoise}" [ "$resent" -eq 3 ]
check "each resend queued a new SMS (5 codes for +7999***1122: setphone, sign-in, 3 resends)" [ "$(petr_codes)" -eq 5 ]
r7json m3 /api/2.0/authentication/sendsms.json '{"userName":"petr","password":"'"$pw2"'"}'
if [ "$st" = 'HTTP/1.1 500 Server error' ] && body_is m3 "$TOO_MANY_SMS"; then
	pass "a sixth SMS in the hour (--limit-recipient-hour 5): 500, ONLYOFFICE's SmsTooMuchError in Russian"
else
	fail "sendsms over the limit answered: $(show)"
fi
latest=$(newest_code)
r7json m4 "/api/2.0/authentication/$latest.json" '{"userName":"petr","password":"'"$pw2"'"}'
if [ "$st" = 'HTTP/1.1 201 Created' ] && [ -n "$(printf '%s\n' "$bd" | str token)" ]; then
	pass "the newest code after the resends: 201 with a token (no resend counted as a wrong code)"
else
	fail "the newest code $latest answered: $(show)"
fi
check "the token came with ONLYOFFICE's asc_auth_key cookie" grep -Eq '^Set-Cookie: asc_auth_key=[A-Za-z0-9_-]{43}; path=/; expires=[A-Z][a-z]{2}, [0-9]{2} [A-Z][a-z]{2} [0-9]{4} [0-9:]{8} GMT; HttpOnly$' "$tmp/m4.hdr"
ok=0
for i in $(seq 1 25); do
	r7json m5 /api/2.0/authentication '{"userName":"ivan@example.com","password":"'"$pw1"'"}'
	[ "$st" = 'HTTP/1.1 201 Created' ] && ok=$((ok + 1))
done
check "25 correct sign-ins in a row from one address: 25 times 201 (successes never count)" [ "$ok" -eq 25 ]
pw3='Sasha-password-1'
cli user add --email sasha@example.com --username sasha --password "$pw3" >/dev/null || die "aspgate user add failed"
bad=0
for i in 1 2 3 4 5; do
	r7json m6 /api/2.0/authentication '{"userName":"sasha","password":"Wrong-password-'"$i"'"}'
	body_is m6 "$FAILED_JSON" && bad=$((bad + 1))
done
check "five wrong passwords for sasha: User authentication failed each" [ "$bad" -eq 5 ]
r7json m7 /api/2.0/authentication '{"userName":"sasha","password":"'"$pw3"'"}'
if [ "$st" = 'HTTP/1.1 500 Server error' ] && body_is m7 "$BLOCKED"; then
	pass "the sixth attempt within a minute, with the right password: 500, Login Fail. Too many attempts"
else
	fail "the sixth attempt answered: $(show)"
fi
r7json m8 /api/2.0/authentication '{"userName":"sasha@example.com","password":"'"$pw3"'"}'
check "meanwhile sasha's e-mail (a login of its own) signs in: $st" [ "$st" = 'HTTP/1.1 201 Created' ]

echo
if [ "$failed" -eq 0 ]; then
	echo "r7-check: PASS ($passed checks passed)"
else
	echo "--- aspgate.log (last 20 lines)"
	tail -n 20 "$tmp/aspgate.log"
	echo "r7-check: FAIL ($failed of $((passed + failed)) checks failed)$failures"
	exit 1
fi
