load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'

setup() {
	cd "$BATS_TEST_TMPDIR"
	cat >customers.ndjson <<'EOF'
{"id":1,"name":"Ada","phone":"+44 20 1","address":{"city":"London","zip":"N1"},"receipts":[100,20.5,40]}
{"id":2,"name":"Bob","phone":"+1 555 2","address":{"city":"Boston","zip":"02110"},"receipts":[10]}
{"id":3,"name":"Cy","phone":"+33 1 3","address":{"city":"Paris","zip":"75001"},"receipts":[]}
{"id":4,"name":"Dee \"D\" é","phone":null,"address":{"city":"London","zip":"E2"},"receipts":[150]}
{"id":5,"name":"Eve","phone":"+49 30 5","address":{"city":"Berlin","zip":"10115"},"receipts":[75,75.25,1e2,-3]}
EOF
	printf '[1,2,3]\n{"a":{"b":[true,false,null]}}\n"str\\u00e9\\n"\n-0.5\n1e300\n  {"x" : [ ] }\n' >mixed.json
	printf '{"id":1,"tier":"gold"}\n{"id":4,"tier":"silver"}\n{"id":5,"tier":"gold"}\n' >tiers.ndjson
	printf '%s\n' '{"id":1,' '  "v": [1,' '2]}' '{"id":2,"v":[]}' >pretty.json
}

# same INPUT PROGRAM [JQ-FLAGS...]: ti-run prints exactly what jq -c prints.
same() {
	local input=$1 prog=$2
	shift 2
	printf '%s\n' "$prog" >p.jq
	jq -c -f p.jq "$@" <"$input" >want.out
	run --separate-stderr ti-run --plain-in --plain-out p.jq "$@" <"$input"
	assert_success
	cmp want.out <(printf '%s' "$output"; [ -z "$output" ] || echo) ||
		{ echo "want: $(cat want.out)"; echo "got:  $output"; return 1; }
	[ -s want.out ] || [ -z "$output" ]
}

@test "jq: identity over NDJSON" { same customers.ndjson '.'; }
@test "jq: identity over a mixed value stream" { same mixed.json '.'; }
@test "jq: values spanning lines" { same pretty.json '.'; }
@test "jq: field" { same customers.ndjson '.name'; }
@test "jq: nested field and optional" { same customers.ndjson '.address.city, .nope?.x'; }
@test "jq: object construction" { same customers.ndjson '{id, city: .address.city}'; }
@test "jq: select on a sum (the \$150 filter)" { same customers.ndjson 'select((.receipts|add) >= 150)'; }
@test "jq: select and project" { same customers.ndjson 'select(.address.city == "London") | {name, phone}'; }
@test "jq: map" { same customers.ndjson '.receipts | map(. * 2)'; }
@test "jq: map_values and to_entries" { same customers.ndjson '.address | map_values(ascii_upcase) | to_entries'; }
@test "jq: reduce" { same customers.ndjson 'reduce .receipts[] as $r (0; . + $r)'; }
@test "jq: length, keys, has" { same customers.ndjson '[length, keys, has("phone")]'; }
@test "jq: string interpolation" { same customers.ndjson '"\(.id): \(.name) in \(.address.city)"'; }
@test "jq: -r raw strings" { same customers.ndjson '.name, .id' -r; }
@test "jq: alternative and if" { same customers.ndjson 'if (.phone // "none") == "none" then "no phone" else .phone end'; }
@test "jq: try/catch keeps going" { same customers.ndjson 'try (.name + 1) catch "bad"'; }
@test "jq: -s slurp and group_by" { same customers.ndjson 'group_by(.address.city) | map({city: .[0].address.city, n: length})' -s; }
@test "jq: -s sort_by, min_by, unique" { same customers.ndjson '[sort_by(-.id)[].id, min_by(.id).name, ([.[].address.city] | unique)]' -s; }
@test "jq: -n with inputs (streaming reduce)" { same customers.ndjson 'reduce inputs as $c (0; . + ($c.receipts | add // 0))' -n; }
@test "jq: -n with input" { same customers.ndjson 'input.name, input.id' -n; }
@test "jq: -n without input" { same /dev/null '[range(5)] | map(. * .)' -n; }
@test "jq: --arg" { same customers.ndjson 'select(.address.city == $city) | .id' --arg city London; }
@test "jq: --argjson" { same customers.ndjson 'select(.id >= $min.id) | .name' --argjson min '{"id":3}'; }
@test "jq: \$ARGS.named" { same customers.ndjson '$ARGS.named' --arg a 1 --argjson b '[2]'; }
@test "jq: --args positional" { same /dev/null '$ARGS.positional' -n --args x y; }
@test "jq: paths and getpath" { same mixed.json '[paths] | length'; }
@test "jq: tostring, tojson, fromjson" { same customers.ndjson '(.receipts | tojson | fromjson), (.id | tostring)'; }
@test "jq: numbers print as jq prints them" { same mixed.json '.. | numbers'; }
@test "jq: unicode and escapes" { same customers.ndjson '.name | explode | implode'; }
@test "jq: limit, first, range" { same customers.ndjson '[limit(2; .receipts[])], first(range(10; 20))'; }
@test "jq: regex test and sub" { same customers.ndjson 'select(.name | test("^[A-D]")) | .phone // "" | sub(" "; "-")'; }
@test "jq: def and recursion" { same customers.ndjson 'def f: if . > 1 then . * (. - 1 | f) else 1 end; .id | f'; }
@test "jq: empty output" { same customers.ndjson 'empty'; }
@test "jq: -e with a true last output" { same customers.ndjson '.id > 0' -e; }
@test "jq: @csv and @base64" { same customers.ndjson '([.id, .name] | @csv), (.name | @base64)' -r; }
@test "jq: with_entries, del, setpath" { same customers.ndjson 'del(.receipts) | setpath(["address","zip"]; null) | with_entries(select(.value != null))'; }

# named: ti-run and jq -c with --slurpfile give the same join.
@test "jq: numbers print exactly as jq -c prints them" {
	printf '%s\n' 0 -0 1 -1 0.1 0.05 0.0001 0.00001 1e-7 123.456 1e15 1e16 1e17 \
		1e18 123456789012345678 9007199254740993 1.7976931348623157e308 5e-324 \
		2.2250738585072014e-308 3.14159 -2.5 94.10 1e300 1.5e-10 0.3 \
		1.0000000000000002 123e20 4.35 1e21 0.1e1 12345678.9 -1e-300 \
		6.02214076e23 1.6e-19 2e308 -2e308 0.000123456789 >nums.json
	awk 'BEGIN { srand(3); for (i = 0; i < 3000; i++)
		printf "%.*g\n%.*f\n", 1 + int(rand() * 17), (rand() - 0.5) * 10 ^ int(rand() * 40 - 20),
		    int(rand() * 8), (rand() - 0.5) * 1e7 }' >>nums.json
	same nums.json '.'
	same nums.json '. * 3, . / 7'
}

@test "jq: strings print exactly as jq -c prints them" {
	printf '"\\u0000\\u0001\\u001f\\u007f\\u0080 \\b\\f\\n\\r\\t \\"\\\\ \\/ é€😀 \\u2028\\ufeff \\ud83d\\ude00"\n' >strs.json
	printf '{"k\\n\\u0002":["\\u007f",{"":"x\\\\y"}]}\n' >>strs.json
	same strs.json '.'
	same strs.json 'tostring, (tojson | fromjson)'
}

@test "jq: random JSON texts, lenient and broken input parse as jq parses them" {
	cat >gen.py <<'PY'
import random, json, sys
random.seed(int(sys.argv[1]))
def rstr():
    chars=[]
    for _ in range(random.randint(0,12)):
        r=random.random()
        if r<0.6: chars.append(random.choice('abcxyz ABC019_-'))
        elif r<0.7: chars.append(random.choice('"\\/\b\f\n\r\t\x00\x1f\x7f'))
        elif r<0.85: chars.append(chr(random.choice([0xe9,0x20ac,0x2028,0xfeff,0x1f600,0x10ffff,0x80])))
        else: chars.append(chr(random.randint(0x20,0x2fff)))
    return ''.join(chars)
def enc_str(s):
    out='"'
    for ch in s:
        o=ord(ch)
        r=random.random()
        if ch=='"': out+='\\"'
        elif ch=='\\': out+='\\\\'
        elif o<0x20: out+=random.choice(['\\u%04x'%o,'\\u%04X'%o]) if ch not in '\b\f\n\r\t' or r<0.5 else {'\b':'\\b','\f':'\\f','\n':'\\n','\r':'\\r','\t':'\\t'}[ch]
        elif ch=='/' and r<0.5: out+='\\/'
        elif o>0xffff and r<0.5:
            v=o-0x10000; out+='\\u%04x\\u%04x'%(0xd800+(v>>10),0xdc00+(v&0x3ff))
        elif o>=0x80 and r<0.3: out+='\\u%04x'%o if o<=0xffff else ch
        else: out+=ch
    return out+'"'
def rnum():
    r=random.random()
    if r<0.3: return str(random.randint(-10**6,10**6))
    if r<0.5: return repr(random.uniform(-1e6,1e6))
    if r<0.6: return '%de%d'%(random.randint(-99,99),random.randint(-400,400))
    if r<0.7: return random.choice(['0','-0','0.0','1E5','1e+5','1.5e-7','123456789012345678901234567890','0.1234567890123456789','-0.000'])
    return '%.*f'%(random.randint(0,5),random.uniform(-1e4,1e4))
def ws():
    return random.choice(['','',' ','\n','\t','\r\n','  '])
def val(d=0):
    r=random.random()
    if d>4 or r<0.3: return random.choice([rnum(), enc_str(rstr()), 'true','false','null'])
    if r<0.65:
        return '['+ws()+(','+ws()).join(val(d+1) for _ in range(random.randint(0,4)))+ws()+']'
    items=[]
    for _ in range(random.randint(0,4)):
        items.append(ws()+enc_str(rstr())+ws()+':'+ws()+val(d+1)+ws())
    return '{'+','.join(items)+'}'
for i in range(int(sys.argv[2])):
    print(ws()+val(), end=random.choice(['\n','\n',' ','\n\n']))
PY
	for seed in 1 2 3; do
		python3 gen.py "$seed" 1500 >fz.json
		same fz.json '.'
	done
	printf '%s\n' '.' >p.jq
	for doc in 01 +1 .5 1. - nan truex '[1,]' '{"a":1,}' $'"a\tb"' '"\ud800"' \
	    '"\udc00x"' '"\ud83d\ude00"' $'\xef\xbb\xbf{"a":1}' $'"\xff\xfe"' '[1 2]' \
	    '1 2 3' '[1][2]' '"a""b"' 1e999 -1e999 1e-999 '{"a":1,"a":2}' 'true false' \
	    '{}x' 0x10 1e5x tru '"abc' '[1,2' infinity 1E+2 -0.0e-0 $'1\x1e2' \
	    $'1.797\x1e\x1e[1]' $'"a"\x1e'; do
		printf '%s' "$doc" >d.json
		if jq -c . d.json >want.out 2>/dev/null; then
			run ti-run --plain-in --plain-out p.jq <d.json
			assert_success
			[ "$output" = "$(cat want.out)" ] || { echo "differs on $doc"; return 1; }
		else
			run ti-run --plain-in --plain-out p.jq <d.json
			[ "$status" -eq 3 ] || { echo "status $status on $doc"; return 1; }
		fi
	done
}

@test "jq: --slurpfile join" {
	printf '%s\n' 'select(.id as $i | $tiers | any(.id == $i)) | {id, tier: (.id as $i | $tiers[] | select(.id == $i) | .tier)}' >p.jq
	jq -c --slurpfile tiers tiers.ndjson -f p.jq <customers.ndjson >want.out
	run ti-run --plain-in --plain-out --slurpfile tiers tiers.ndjson p.jq <customers.ndjson
	assert_success
	assert_output "$(cat want.out)"
	[ "${#lines[@]}" -eq 3 ]
}

@test "jq: two --slurpfile inputs and \$ARGS.named" {
	echo '{"k":1}' >one.json
	printf '%s\n' '[($a | length), $b[0].k, ($ARGS.named | keys)]' >p.jq
	jq -nc --slurpfile a tiers.ndjson --slurpfile b one.json -f p.jq >want.out
	run ti-run --plain-in --plain-out -n --slurpfile a tiers.ndjson --slurpfile b one.json p.jq </dev/null
	assert_success
	assert_output "$(cat want.out)"
}

@test "jq: --jobs 2 keeps the output in order" {
	for i in $(seq 1 3000); do
		printf '{"id":%d,"name":"n%d","receipts":[%d,%d]}\n' "$i" "$i" $((i % 97)) $((i % 113))
	done >many.ndjson
	printf '%s\n' 'select((.receipts|add) >= 150) | .id' >p.jq
	jq -c -f p.jq <many.ndjson >want.out
	run ti-run --plain-in --plain-out --jobs 2 p.jq <many.ndjson
	assert_success
	[ "$output" = "$(cat want.out)" ]
	[ "${#lines[@]}" -gt 100 ]
}

@test "jq: --jobs 3 with records spanning lines and strings with newlines" {
	for i in $(seq 1 2000); do
		printf '{"id":%d,\n "s":"a\\n}]{[\\"b",\n "v":[%d,\n %d]}\n' "$i" "$i" "$((i * 2))"
	done >spans.json
	jq -c '.v | add' <spans.json >want.out
	printf '%s\n' '.v | add' >p.jq
	run ti-run --plain-in --plain-out --jobs 3 p.jq <spans.json
	assert_success
	[ "$output" = "$(cat want.out)" ]
}

@test "program error: exit 9, record number, no output, no value quoted" {
	printf '%s\n' '.id, (.name + 1)' >p.jq
	run --separate-stderr ti-run --plain-in --plain-out p.jq <customers.ndjson
	assert_failure 9
	assert_output ''
	[ "$stderr" = "ti-run: program failed at input record 1" ]
	printf '%s\n' 'if .id == 4 then error("secret \(.name)") else .id end' >p.jq
	run --separate-stderr ti-run --plain-in --plain-out p.jq <customers.ndjson
	assert_failure 9
	assert_output ''
	[ "$stderr" = "ti-run: program failed at input record 4" ]
	[[ "$stderr" != *Dee* ]]
}

@test "program error with --jobs 2: the global record number" {
	for i in $(seq 1 5000); do printf '{"id":%d}\n' "$i"; done >many.ndjson
	printf '%s\n' 'if .id == 4321 then error("x") else .id end' >p.jq
	run --separate-stderr ti-run --plain-in --plain-out --jobs 2 p.jq <many.ndjson
	assert_failure 9
	assert_output ''
	[ "$stderr" = "ti-run: program failed at input record 4321" ]
}

@test "--stderr pass shows jq's message" {
	printf '%s\n' '.name + 1' >p.jq
	run --separate-stderr ti-run --plain-in --plain-out --stderr pass p.jq <customers.ndjson
	assert_failure 9
	[[ "$stderr" == *"cannot be added"* ]]
}

@test "halt_error fails the run, halt ends it successfully" {
	printf '%s\n' 'if .id == 2 then halt_error else .id end' >p.jq
	run ti-run --plain-in --plain-out p.jq <customers.ndjson
	assert_failure 9
	assert_output --partial 'program halted with an error at input record 2'
	printf '%s\n' 'if .id == 3 then halt else .id end' >p.jq
	run ti-run --plain-in --plain-out p.jq <customers.ndjson
	assert_success
	assert_output $'1\n2'
}

@test "-e: a false last output or no output fails with exit 9" {
	printf '%s\n' '.id > 4' >p.jq
	run ti-run --plain-in --plain-out -e p.jq <customers.ndjson
	assert_success
	printf '%s\n' '.id > 9' >p.jq
	run ti-run --plain-in --plain-out -e p.jq <customers.ndjson
	assert_failure 9
	assert_output --partial 'last output was false or null'
	printf '%s\n' 'empty' >p.jq
	run ti-run --plain-in --plain-out -e p.jq <customers.ndjson
	assert_failure 9
}

@test "malformed input JSON: exit 3 naming the record, no output" {
	printf '{"a":1}\n{"a":2}\n{"a":\n' >bad.json
	printf '%s\n' '.a' >p.jq
	run --separate-stderr ti-run --plain-in --plain-out p.jq <bad.json
	assert_failure 3
	assert_output ''
	[ "$stderr" = "ti-run: input record 3 is not valid JSON" ]
}

@test "import, include and modulemeta are refused" {
	mkdir -p home
	echo 'def secret: "from ~/.jq";' >home/.jq
	printf '%s\n' 'import "x" as x; .' >p.jq
	run env HOME="$PWD/home" ti-run --plain-in --plain-out p.jq </dev/null
	assert_failure 2
	assert_output --partial '"import"'
	printf '%s\n' 'include "x"; .' >p.jq
	run ti-run --plain-in --plain-out p.jq </dev/null
	assert_failure 2
	printf '%s\n' '"x" | modulemeta' >p.jq
	run ti-run --plain-in --plain-out -n p.jq </dev/null
	assert_failure 2
	# but the words are fine inside strings and as fields
	printf '%s\n' '{"import": .import, s: "include \("modulemeta")"}' >p.jq
	run ti-run --plain-in --plain-out -n p.jq </dev/null
	assert_success
	assert_output '{"import":null,"s":"include modulemeta"}'
}

@test "~/.jq is never loaded" {
	mkdir -p home
	echo 'def length: "hijacked";' >home/.jq
	printf '%s\n' 'length' >p.jq
	run env HOME="$PWD/home" ti-run --plain-in --plain-out p.jq <customers.ndjson
	assert_success
	refute_output --partial hijacked
	printf '%s\n' '$ENV | length' >p.jq
	run env HOME="$PWD/home" ti-run --plain-in --plain-out -n p.jq </dev/null
	assert_success
	assert_output 0
}

@test "usage errors exit 2" {
	run ti-run
	assert_failure 2
	run ti-run --plain-in --plain-out --bogus p.jq
	assert_failure 2
	printf '%s\n' '.a |' >p.jq
	run ti-run --plain-in --plain-out p.jq </dev/null
	assert_failure 2
	printf '%s\n' '.' >p.jq
	run ti-run --plain-in --plain-out --jobs 2 -s p.jq </dev/null
	assert_failure 2
	printf '%s\n' '.' >p.jq
	run ti-run --plain-in p.jq </dev/null
	assert_failure 2
	assert_output --partial 'needs at least one --to'
	run ti-run --help
	assert_success
	assert_output --partial usage
	run ti-run --version
	assert_output 'ti-run 0.1.0'
}

@test "--exec: any executable, plaintext modes, status 9 on failure" {
	run ti-run --plain-in --plain-out --exec /usr/bin/awk '{ print toupper($0) }' <customers.ndjson
	assert_success
	assert_line --index 0 --partial '"NAME":"ADA"'
	run ti-run --plain-in --plain-out --exec /usr/bin/awk '{ print } END { exit 3 }' <customers.ndjson
	assert_failure 9
	assert_output --partial 'program exited with status 3'
	refute_output --partial Ada
}

@test "a compartment violation exits 6 naming it, and nothing is released" {
	run --separate-stderr ti-run --plain-in --plain-out --exec "$TI_BUILD/test/exfil/tcp" 9 <customers.ndjson
	assert_failure 6
	assert_output ''
	[ "$stderr" = "ti-run: compartment violation: socket(AF_INET)" ]
}

@test "a limit exits 10: wall time" {
	run --separate-stderr ti-run --plain-in --plain-out --timeout 1 --exec "$TI_BUILD/test/exfil/spin" <customers.ndjson
	assert_failure 10
	assert_output ''
	[[ "$stderr" == *"resource limit"* ]]
}

@test "a limit exits 10: a jq program's memory" {
	[[ $TI_BUILD != */san ]] || skip "AddressSanitizer reserves its own memory"
	printf '%s\n' '[range(100000000)] | length' >p.jq
	run --separate-stderr ti-run --plain-in --plain-out --memory 64M -n p.jq </dev/null
	assert_failure 10
	assert_output ''
}

@test "--print-manifest describes every option that changes where data goes" {
	echo . >p.jq
	run ti-run --print-manifest --plain-in --plain-out -r --arg a b p.jq
	assert_success
	echo "$output" | jq -e '.ti == "manifest/v1" and .kind == "jq" and .output.plain and .input.plain and .jq.raw_output and .jq.arg.a == "b"'
	a=$(ti-run --print-manifest --plain-in --plain-out p.jq)
	b=$(ti-run --print-manifest --plain-in --plain-out --stderr pass p.jq)
	[ "$a" != "$b" ]
}

@test "--stats reports counts, never data" {
	printf '%s\n' '.name' >p.jq
	run --separate-stderr ti-run --plain-in --plain-out --stats p.jq <customers.ndjson
	assert_success
	[[ "$stderr" == *"records=5 results=5"* ]]
	[[ "$stderr" != *Ada* ]]
}

# ---- sealed input and output ------------------------------------------

# A platform, a sink (the output's recipient) and a sender (signs the input).
sealed_setup() {
	export TI_HOME=$BATS_TEST_TMPDIR/ti
	ti-attest init >/dev/null 2>&1
	age-keygen -o sink.key 2>/dev/null
	SINK=$(age-keygen -y sink.key)
	(umask 077; head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >sender.seed)
	MSG=$TI_BUILD/test/helpers/ti-msg
	"$MSG" pub sender.seed >sender.pub
}

# manifest OUT [OPTIONS...]: the manifest of ti-run OPTIONS, and its keys.
manifest() {
	local out=$1
	shift
	ti-run --print-manifest "$@" >"$out"
	REC=$(ti-attest keys --manifest "$out" | sed -n 1p)
	SIG=$(ti-attest keys --manifest "$out" | sed -n 2p)
	[[ $REC == age1* && $SIG == ed25519:* ]]
}

# seal FILE [RUN [SEQ [LAST]]]: FILE sealed to $REC in one message signed by the sender.
seal() {
	age -r "$REC" <"$1" | "$MSG" make sender.seed "${2:-QUFBQUFBQUFBQUFBQUFBQQ}" "${3:-0}" "${4:-true}"
}

# open_out FILE: check every message's signature by $SIG, print the plaintext.
open_out() {
	rm -f part.*
	"$MSG" check "$SIG" part <"$1" >got.meta
	for f in $(ls part.[0-9]* | sort -t. -k2 -n); do age -d -i sink.key "$f"; done
}

# sealed_same INPUT PROGRAM [JQ-FLAGS...]: sealed in and out, the output of jq -c.
sealed_same() {
	local input=$1 prog=$2
	shift 2
	printf '%s\n' "$prog" >p.jq
	jq -c -f p.jq "$@" <"$input" >want.out
	manifest m.json p.jq "$@" --from sender.pub --to "$SINK"
	seal "$input" >in.msg
	run --separate-stderr ti-run --manifest m.json <in.msg
	assert_success
	printf '%s\n' "$output" >out.msg
	open_out out.msg >got.out
	cmp want.out got.out
	[ "$(wc -l <got.meta)" -eq 1 ]
}

@test "sealed: identity" { sealed_setup; sealed_same customers.ndjson '.'; }
@test "sealed: the \$150 filter" { sealed_setup; sealed_same customers.ndjson 'select((.receipts|add) >= 150)'; }
@test "sealed: map and reduce" { sealed_setup; sealed_same customers.ndjson '{id, total: (reduce .receipts[] as $r (0; . + $r))}'; }
@test "sealed: -s group_by" { sealed_setup; sealed_same customers.ndjson 'group_by(.address.city) | map({city: .[0].address.city, ids: map(.id)})' -s; }
@test "sealed: -r and --arg" { sealed_setup; sealed_same customers.ndjson 'select(.address.city == $c) | .name' -r --arg c London; }
@test "sealed: -n with inputs and --argjson" { sealed_setup; sealed_same customers.ndjson '[inputs | select(.id > $min)] | length' -n --argjson min 2; }
@test "sealed: values spanning lines" { sealed_setup; sealed_same pretty.json '.v'; }
@test "sealed: empty output is one message of nothing" { sealed_setup; sealed_same customers.ndjson 'empty'; }

@test "sealed: the same input gives the same run; other input another" {
	sealed_setup
	manifest m.json p.jq --from sender.pub --to "$SINK" 2>/dev/null || {
		echo .id >p.jq; manifest m.json p.jq --from sender.pub --to "$SINK"; }
	seal customers.ndjson >a.msg
	seal customers.ndjson >b.msg
	cmp -s a.msg b.msg && return 1	# sealed twice: other age bytes
	ti-run --manifest m.json <a.msg >a.out
	ti-run --manifest m.json <b.msg >b.out
	ra=$(jq -r .run a.out) rb=$(jq -r .run b.out)
	[ "$ra" = "$rb" ]
	[ "${#ra}" -eq 22 ]
	head -3 customers.ndjson >c3.ndjson
	seal c3.ndjson >c.msg
	ti-run --manifest m.json <c.msg >c.out
	[ "$(jq -r .run c.out)" != "$ra" ]
	jq -e '.v == 1 and .seq == 0 and .last == true and .signer == "'"$SIG"'"' a.out
}

@test "sealed: --split makes one message per result, seq from 0, last at the end" {
	sealed_setup
	printf '%s\n' '.name' >p.jq
	manifest m.json p.jq --split --from sender.pub --to "$SINK"
	seal customers.ndjson >in.msg
	run --separate-stderr ti-run --manifest m.json <in.msg
	assert_success
	printf '%s\n' "$output" >out.msg
	open_out out.msg >got.out
	jq -c .name customers.ndjson | cmp - got.out
	[ "$(wc -l <got.meta)" -eq 5 ]
	run jq -c '[.seq, .last]' out.msg
	assert_output $'[0,false]\n[1,false]\n[2,false]\n[3,false]\n[4,true]'
	[ "$(cut -d' ' -f1 got.meta | sort -u | wc -l)" -eq 1 ]
}

@test "sealed: --pad rounds the plaintext up" {
	sealed_setup
	printf '%s\n' '.id' >p.jq
	manifest m.json p.jq --pad 64 --from sender.pub --to "$SINK"
	seal customers.ndjson >in.msg
	ti-run --manifest m.json <in.msg >out.msg
	open_out out.msg >got.out
	[ "$(wc -c <got.out)" -eq 64 ]
	[ "$(jq -c . got.out | tr '\n' ' ')" = "1 2 3 4 5 " ]
}

@test "sealed: --jobs 2 and a sealed --slurpfile join" {
	sealed_setup
	printf '%s\n' '.id as $i | select($t | any(.id == $i)) | {id, name}' >p.jq
	manifest m.json p.jq --jobs 2 --slurpfile t tiers.ndjson --from sender.pub --to "$SINK"
	seal customers.ndjson >in.msg
	seal tiers.ndjson >tiers.msg
	run --separate-stderr ti-run --manifest m.json --slurpfile t tiers.msg <in.msg
	assert_success
	printf '%s\n' "$output" >out.msg
	open_out out.msg >got.out
	jq -c --slurpfile t tiers.ndjson -f p.jq customers.ndjson | cmp - got.out
}

@test "sealed: raw age input with --from any" {
	sealed_setup
	printf '%s\n' '.id' >p.jq
	manifest m.json p.jq --from any --to "$SINK"
	age -r "$REC" <customers.ndjson >in.age
	ti-run --manifest m.json <in.age >out.msg
	open_out out.msg >got.out
	[ "$(tr '\n' ' ' <got.out)" = "1 2 3 4 5 " ]
	# the same bytes as a message from anyone
	(umask 077; head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >other.seed)
	"$MSG" make other.seed QUFBQUFBQUFBQUFBQUFBQQ 0 true <in.age >in.msg
	ti-run --manifest m.json <in.msg >out2.msg
	open_out out2.msg | cmp - got.out
	# but raw age is not accepted from named senders
	manifest m2.json p.jq --from sender.pub --to "$SINK"
	age -r "$REC" <customers.ndjson >in2.age
	run --separate-stderr ti-run --manifest m2.json <in2.age
	assert_failure 3
	assert_output ''
}

@test "sealed: a manifest differing in anything cannot open the input" {
	sealed_setup
	printf '%s\n' '.id' >p.jq
	age-keygen -o other.key 2>/dev/null
	manifest m.json p.jq --from sender.pub --to "$SINK"
	seal customers.ndjson >in.msg
	ti-run --manifest m.json <in.msg >/dev/null
	for variant in "--to $(age-keygen -y other.key)" "-r" "--arg x 1" "--stderr pass" \
	    "--split" "--pad 16" "--jobs 2" "--timeout 61" "--plain-out"; do
		# shellcheck disable=SC2086
		ti-run --print-manifest p.jq --from sender.pub $variant \
			$([ "$variant" = --plain-out ] || echo --to "$SINK") >m2.json
		cmp -s m.json m2.json && { echo "same manifest: $variant"; return 1; }
		run --separate-stderr ti-run --manifest m2.json <in.msg
		[ "$status" -eq 1 ] || { echo "$variant: status $status"; return 1; }
		[ -z "$output" ] || { echo "$variant: output"; return 1; }
		[[ "$stderr" == *"no identity matched"* ]] || { echo "$variant: $stderr"; return 1; }
	done
	echo '.id ' >p2.jq
	manifest m3.json p2.jq --from sender.pub --to "$SINK"
	run --separate-stderr ti-run --manifest m3.json <in.msg
	assert_failure 1
	assert_output ''
}

@test "sealed: a message from an unknown sender: exit 1, no output" {
	sealed_setup
	printf '%s\n' '.id' >p.jq
	manifest m.json p.jq --from sender.pub --to "$SINK"
	(umask 077; head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >mallory.seed)
	age -r "$REC" <customers.ndjson | "$MSG" make mallory.seed QUFBQUFBQUFBQUFBQUFBQQ 0 true >in.msg
	run --separate-stderr ti-run --manifest m.json <in.msg
	assert_failure 1
	assert_output ''
	[[ "$stderr" == *"unknown sender ed25519:"* ]]
}

@test "sealed: forged and tampered messages: exit 3, no output" {
	sealed_setup
	printf '%s\n' '.id' >p.jq
	manifest m.json p.jq --from sender.pub --to "$SINK"
	seal customers.ndjson >in.msg
	# another signature over the same message
	jq -c '.sig = (.sig | .[0:10] + (if .[10:11] == "A" then "B" else "A" end) + .[11:])' in.msg >forged.msg
	run --separate-stderr ti-run --manifest m.json <forged.msg
	assert_failure 3
	assert_output ''
	# the sealed bytes changed under a valid-looking message
	jq -c '.run = "QkJCQkJCQkJCQkJCQkJCQg"' in.msg >tampered.msg
	run --separate-stderr ti-run --manifest m.json <tampered.msg
	assert_failure 3
	assert_output ''
	echo 'not a message' >junk.msg
	run --separate-stderr ti-run --manifest m.json <junk.msg
	assert_failure 3
}

@test "sealed: truncated input: exit 3, no output" {
	sealed_setup
	printf '%s\n' '.id' >p.jq
	manifest m.json p.jq --from sender.pub --to "$SINK"
	# age bytes cut short, signed as they are
	age -r "$REC" <customers.ndjson | head -c 200 | "$MSG" make sender.seed QUFBQUFBQUFBQUFBQUFBQQ 0 true >cut.msg
	run --separate-stderr ti-run --manifest m.json <cut.msg
	assert_failure 3
	assert_output ''
	# a run whose last message is missing
	head -2 customers.ndjson >a.ndjson
	tail -3 customers.ndjson >b.ndjson
	{ seal a.ndjson QUFBQUFBQUFBQUFBQUFBQQ 0 false; seal b.ndjson QUFBQUFBQUFBQUFBQUFBQQ 1 true; } >two.msg
	run ti-run --manifest m.json <two.msg
	assert_success
	[ "$(open_out <(printf '%s\n' "$output") | tr '\n' ' ')" = "1 2 3 4 5 " ]
	head -1 two.msg >first.msg
	run --separate-stderr ti-run --manifest m.json <first.msg
	assert_failure 3
	assert_output ''
	[[ "$stderr" == *truncated* ]]
	# out of order
	{ seal b.ndjson QUFBQUFBQUFBQUFBQUFBQQ 1 true; seal a.ndjson QUFBQUFBQUFBQUFBQUFBQQ 0 false; } >swapped.msg
	run --separate-stderr ti-run --manifest m.json <swapped.msg
	assert_failure 3
	# a line cut in the middle
	seal customers.ndjson >in.msg
	head -c 300 in.msg >half.msg
	run --separate-stderr ti-run --manifest m.json <half.msg
	assert_failure 3
	assert_output ''
}

@test "sealed: a program error: exit 9, no output, no value" {
	sealed_setup
	printf '%s\n' 'if .id == 3 then error(.name) else .id end' >p.jq
	manifest m.json p.jq --from sender.pub --to "$SINK"
	seal customers.ndjson >in.msg
	run --separate-stderr ti-run --manifest m.json <in.msg
	assert_failure 9
	assert_output ''
	[ "$stderr" = "ti-run: program failed at input record 3" ]
}

@test "sealed: --plain-in with sealed output, --plain-out with sealed input" {
	sealed_setup
	printf '%s\n' '.id' >p.jq
	manifest m.json p.jq --plain-in --to "$SINK"
	ti-run --manifest m.json <customers.ndjson >out.msg
	[ "$(open_out out.msg | tr '\n' ' ')" = "1 2 3 4 5 " ]
	manifest m2.json p.jq --from sender.pub --plain-out
	seal customers.ndjson >in.msg
	run ti-run --manifest m2.json <in.msg
	assert_success
	assert_output $'1\n2\n3\n4\n5'
}

@test "sealed: -n with a named input and nothing on stdin" {
	sealed_setup
	printf '%s\n' '$t | map(.tier) | unique' >p.jq
	manifest m.json p.jq -n --slurpfile t tiers.ndjson --from sender.pub --to "$SINK"
	seal tiers.ndjson >tiers.msg
	ti-run --manifest m.json --slurpfile t tiers.msg </dev/null >out.msg
	[ "$(open_out out.msg)" = '["gold","silver"]' ]
}

@test "no platform: exit 4, nothing written" {
	sealed_setup
	printf '%s\n' '.id' >p.jq
	manifest m.json p.jq --from sender.pub --to "$SINK"
	seal customers.ndjson >in.msg
	TI_HOME=$BATS_TEST_TMPDIR/none run --separate-stderr ti-run --manifest m.json <in.msg
	assert_failure 4
	assert_output ''
	[[ "$stderr" == *"ti-attest init"* ]]
}
