#!/usr/bin/env bats
# ti-seal: keys, round trips, interoperability with age, and bad input.

load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'

setup() {
	cd "$BATS_TEST_TMPDIR" || exit 1
	ti-seal keygen -o key.txt 2>/dev/null
	R=$(ti-seal pubkey -i key.txt)
	ti-seal keygen -o other.txt 2>/dev/null
	R2=$(ti-seal pubkey -i other.txt)
	printf 'correct horse\n' > pass.txt
	chmod 600 pass.txt
}

# Random bytes of a given size.
mkdata() {
	head -c "$2" /dev/urandom > "$1"
}

# A file sealed to $R with n bytes of random plaintext: plain.bin, c.age.
sealed() {
	mkdata plain.bin "$1"
	ti-seal seal -r "$R" -o c.age plain.bin
}

# Offset of the payload (after the header and its 16-byte nonce).
payload_off() {
	python3 -c 'import sys; d=open(sys.argv[1],"rb").read(); i=d.index(b"\n--- "); print(d.index(b"\n", i+1)+1+16)' "$1"
}

# Assert no output file and no temporary file is left for name $1.
assert_no_output() {
	[ ! -e "$1" ]
	run compgen -G "$1.tmp.*"
	assert_failure
}

@test "--help and --version" {
	run ti-seal --help
	assert_success
	assert_output --partial "usage: ti-seal keygen"
	run ti-seal --version
	assert_success
	assert_output "ti-seal 0.1.0"
	run ti-seal seal --help
	assert_success
	assert_output --partial "ti-seal open"
}

@test "usage errors exit 2" {
	run ti-seal
	assert_failure 2
	assert_output --partial "usage:"
	run ti-seal frobnicate
	assert_failure 2
	assert_output --partial "unknown command"
	run ti-seal seal plain.bin
	assert_failure 2
	run ti-seal seal --bogus
	assert_failure 2
	run ti-seal seal -p -r "$R" --passphrase-file pass.txt
	assert_failure 2
	run ti-seal open c.age
	assert_failure 2
	run ti-seal seal -r "$R" a b
	assert_failure 2
	assert_output --partial "too many arguments"
	run ti-seal seal -p --work-factor 23 --passphrase-file pass.txt
	assert_failure 2
}

@test "keygen writes age-keygen's format, 0600, never overwrites" {
	run stat -c %a key.txt
	assert_output 600
	run sed -n 1p key.txt
	assert_output --regexp '^# created: 20[0-9-]+T[0-9:]+Z$'
	run sed -n 2p key.txt
	assert_output "# public key: $R"
	run sed -n 3p key.txt
	assert_output --regexp '^AGE-SECRET-KEY-1[0-9A-Z]{58}$'
	run age-keygen -y key.txt
	assert_output "$R"
	cp key.txt before.txt
	run ti-seal keygen -o key.txt
	assert_failure 4
	assert_output --partial "File exists"
	cmp key.txt before.txt
	run ti-seal keygen
	assert_success
	assert_output --partial "AGE-SECRET-KEY-1"
}

@test "pubkey reads age-keygen's identities and stdin" {
	age-keygen -o ak.txt 2>/dev/null
	run ti-seal pubkey -i ak.txt
	assert_success
	assert_output "$(age-keygen -y ak.txt)"
	run ti-seal pubkey < ak.txt
	assert_output "$(age-keygen -y ak.txt)"
	cat key.txt other.txt > two.txt
	chmod 600 two.txt
	run ti-seal pubkey -i two.txt
	assert_output "$(printf '%s\n%s' "$R" "$R2")"
}

@test "round trips: empty, 1 byte, 64 KiB, 64 KiB + 1, 3 MiB, binary and armored" {
	for n in 0 1 65535 65536 65537 1048576 1048577 3145733; do
		mkdata p.bin "$n"
		ti-seal seal -r "$R" -o c.age p.bin
		ti-seal open -i key.txt -o out.bin c.age
		cmp p.bin out.bin
		ti-seal seal -a -r "$R" < p.bin > a.age
		head -1 a.age | grep -qx -- '-----BEGIN AGE ENCRYPTED FILE-----'
		ti-seal open -i key.txt < a.age | cmp - p.bin
		rm -f out.bin
	done
	# The size on disk is exactly the header, nonce and 64 KiB chunks.
	mkdata p.bin 65536
	ti-seal seal -r "$R" -o c.age p.bin
	off=$(payload_off c.age)
	[ $(( $(stat -c %s c.age) - off )) -eq $((65536 + 16)) ]
}

@test "interop: ti-seal to age, binary and armored, several recipients" {
	mkdata p.bin 200000
	ti-seal seal -r "$R2" -r "$R" -o c.age p.bin
	age -d -i key.txt c.age | cmp - p.bin
	age -d -i other.txt c.age | cmp - p.bin
	ti-seal seal -a -r "$R" -o a.age p.bin
	age -d -i key.txt a.age | cmp - p.bin
	ti-seal seal -r "$R" -o e.age /dev/null
	run age -d -i key.txt e.age
	assert_success
	assert_output ""
}

@test "interop: age to ti-seal, binary and armored, several identity files" {
	mkdata p.bin 300000
	age -r "$R" -o c.age p.bin
	ti-seal open -i other.txt -i key.txt c.age | cmp - p.bin
	age -a -r "$R" -r "$R2" -o a.age p.bin
	ti-seal open -i other.txt a.age | cmp - p.bin
	age -r "$R" -o e.age /dev/null
	run ti-seal open -i key.txt e.age
	assert_success
	assert_output ""
}

@test "recipients file with comments; identity file with comments" {
	printf '# team\n\n%s\n# more\n%s\n' "$R" "$R2" > recips.txt
	mkdata p.bin 1000
	ti-seal seal -R recips.txt -o c.age p.bin
	ti-seal open -i other.txt c.age | cmp - p.bin
	age -d -i key.txt c.age | cmp - p.bin
	printf 'not a recipient\n' > bad.txt
	run ti-seal seal -R bad.txt p.bin
	assert_failure 3
	assert_output --partial "bad.txt line 1: malformed recipient"
}

@test "interop: passphrase, age -p to ti-seal and ti-seal to age -d" {
	mkdata p.bin 70000
	# age reads passphrases only from a terminal: give it one with script.
	printf 'correct horse\ncorrect horse\n' |
	    script -qec "age -p -o c.age p.bin" /dev/null >/dev/null
	ti-seal open --passphrase-file pass.txt c.age | cmp - p.bin
	printf 'correct horse\ncorrect horse\n' |
	    script -qec "age -a -p -o a.age p.bin" /dev/null >/dev/null
	ti-seal open --passphrase-file pass.txt -o out.bin a.age
	cmp out.bin p.bin
	ti-seal seal --passphrase-file pass.txt -o t.age p.bin
	head -2 t.age | grep -q '^-> scrypt [A-Za-z0-9+/]\{22\} 18$'
	printf 'correct horse\n' |
	    script -qec "age -d -o t.out t.age" /dev/null >/dev/null
	cmp t.out p.bin
}

@test "passphrase from the terminal, confirmed when sealing" {
	mkdata p.bin 5000
	printf 'tty pass\ntty pass\n' |
	    script -qec "ti-seal seal -p --work-factor 10 -o c.age p.bin" \
	    /dev/null >/dev/null
	printf 'tty pass\n' |
	    script -qec "ti-seal open -p -o out.bin c.age" /dev/null >/dev/null
	cmp out.bin p.bin
	printf 'tty pass\nother\n' |
	    script -qec "ti-seal seal -p -o d.age p.bin; echo rc=\$?" \
	    /dev/null > log
	grep -q 'passphrases do not match' log
	grep -q 'rc=3' log
	assert_no_output d.age
	run ti-seal seal -p -o d.age p.bin < /dev/null
	# With a controlling terminal the prompt would appear; without, exit 2.
	if [ "$status" -ne 0 ]; then
		assert_failure 2
		assert_output --partial "no terminal"
	fi
}

@test "a passphrase cannot open an X25519 file, nor a wrong passphrase" {
	sealed 100
	run ti-seal open --passphrase-file pass.txt -o out c.age
	assert_failure 1
	assert_output "ti-seal: no identity matched"
	assert_no_output out
	ti-seal seal --passphrase-file pass.txt --work-factor 10 -o p.age plain.bin
	printf 'wrong\n' > wrong.txt
	chmod 600 wrong.txt
	run ti-seal open --passphrase-file wrong.txt -o out p.age
	assert_failure 1
	assert_output "ti-seal: no identity matched"
	assert_no_output out
}

@test "refuses to write binary to a terminal" {
	script -qec "ti-seal seal -r $R /dev/null; echo rc=\$?" /dev/null > log
	grep -q 'refusing to write binary to a terminal' log
	grep -q 'rc=2' log
}

@test "malformed recipient exits 3" {
	run ti-seal seal -r age1qqqqnotvalid -o out /dev/null
	assert_failure 3
	assert_output --partial "malformed recipient"
	assert_no_output out
	run ti-seal seal -r "${R}x" /dev/null
	assert_failure 3
	run ti-seal seal -r "age1pq1x34nzsvr0rxjsgdn8zgyhfe8j7ceq5r9rdel" /dev/null
	assert_failure 3
	assert_output --partial "unsupported recipient type"
}

@test "identity file readable by others is refused (exit 1)" {
	sealed 10
	chmod 644 key.txt
	run ti-seal open -i key.txt -o out c.age
	assert_failure 1
	assert_output "ti-seal: key.txt: permissions 0644 are too open; chmod 600 it"
	assert_no_output out
	chmod 640 pass.txt
	run ti-seal seal --passphrase-file pass.txt -o out c.age
	assert_failure 1
	assert_output --partial "too open"
	assert_no_output out
}

@test "malformed or unsupported identity files exit 3" {
	sealed 10
	printf '# nothing here\n' > empty.txt
	printf 'AGE-SECRET-KEY-1QQQQ\n' > bad.txt
	printf 'AGE-SECRET-KEY-PQ-1HZLGZUPT4ETPKDEV8HSGFDCYZ4E522W0A7PU2LHT8EH9W6YLNC3SW78XKG\n' > pq.txt
	chmod 600 empty.txt bad.txt pq.txt
	run ti-seal open -i empty.txt c.age
	assert_failure 3
	assert_output --partial "no keys found"
	run ti-seal open -i bad.txt c.age
	assert_failure 3
	assert_output --partial "bad.txt line 1: malformed identity"
	run ti-seal open -i pq.txt c.age
	assert_failure 3
	assert_output --partial "post-quantum"
}

@test "wrong key: exit 1, no identity matched, nothing written" {
	sealed 70000
	run ti-seal open -i other.txt -o out c.age
	assert_failure 1
	assert_output "ti-seal: no identity matched"
	assert_no_output out
}

@test "non-age input and empty input exit 3" {
	printf 'hello world\n' > plain.txt
	run ti-seal open -i key.txt -o out plain.txt
	assert_failure 3
	assert_output "ti-seal: not an age file"
	assert_no_output out
	run ti-seal open -i key.txt -o out /dev/null
	assert_failure 3
	assert_output "ti-seal: empty input"
	assert_no_output out
	printf 'age-encryption.org/v2\n-> X\n\n--- x\n' > v2.age
	run ti-seal open -i key.txt v2.age
	assert_failure 3
	assert_output "ti-seal: unsupported age version"
}

@test "truncated input exits 3 with nothing left behind" {
	sealed 200000
	size=$(stat -c %s c.age)
	off=$(payload_off c.age)
	for cut in 10 $((off - 20)) $((off - 2)) $((off + 5)) $((off + 65552)) $((size - 1)); do
		head -c "$cut" c.age > t.age
		run ti-seal open -i key.txt -o out t.age
		assert_failure 3
		assert_no_output out
	done
	head -c $((off + 65552)) c.age > t.age
	run ti-seal open -i key.txt -o out t.age
	assert_output --partial "truncated: the final chunk is missing"
	head -c $((off + 65552 * 3)) c.age > t.age
}

@test "tampered chunk exits 3; only chunks before it reach stdout" {
	sealed 200000
	off=$(payload_off c.age)
	python3 -c 'import sys; d=bytearray(open("c.age","rb").read()); d[int(sys.argv[1])+65552+100]^=1; open("t.age","wb").write(d)' "$off"
	run ti-seal open -i key.txt -o out t.age
	assert_failure 3
	assert_output "ti-seal: chunk 1 does not authenticate (tampered or corrupt)"
	assert_no_output out
	ti-seal open -i key.txt t.age > stdout.bin || true
	[ "$(stat -c %s stdout.bin)" -eq 65536 ]
	head -c 65536 plain.bin | cmp - stdout.bin
	# A tampered header fails its MAC.
	sed '2s/^-> X25519 ./-> X25519 A/' c.age > h.age
	cmp -s h.age c.age && sed '2s/^-> X25519 ./-> X25519 B/' c.age > h.age
	run ti-seal open -i key.txt h.age
	assert_failure
}

@test "header MAC mismatch exits 3" {
	sealed 100
	ti-seal keygen -o k3.txt 2>/dev/null
	# Re-wrap nothing: flip one bit of the MAC itself.
	python3 -c 'd=bytearray(open("c.age","rb").read()); i=d.index(b"\n--- ")+6; d[i]=ord("A") if d[i]!=ord("A") else ord("B"); open("t.age","wb").write(d)'
	run ti-seal open -i key.txt -o out t.age
	assert_failure 3
	assert_output --regexp "header MAC mismatch|malformed header MAC"
	assert_no_output out
}

@test "trailing garbage after the final chunk exits 3, final chunk withheld" {
	sealed 65536
	cp c.age t.age
	printf 'x' >> t.age
	run ti-seal open -i key.txt -o out t.age
	assert_failure 3
	assert_output "ti-seal: trailing data after the end of the encrypted file"
	assert_no_output out
	ti-seal open -i key.txt t.age > stdout.bin || true
	[ ! -s stdout.bin ]
	sealed 100000
	cp c.age t.age
	printf 'garbage' >> t.age
	run ti-seal open -i key.txt -o out t.age
	assert_failure 3
	assert_no_output out
	ti-seal open -i key.txt t.age > stdout.bin || true
	[ "$(stat -c %s stdout.bin)" -eq 65536 ]
	# Two sealed files back to back: the second is trailing data.
	cat c.age c.age > t2.age
	run ti-seal open -i key.txt t2.age
	assert_failure 3
	# Armor with text after the end line.
	ti-seal seal -a -r "$R" -o a.age plain.bin
	printf 'more\n' >> a.age
	run ti-seal open -i key.txt -o out a.age
	assert_failure 3
	assert_output --partial "invalid armor"
	assert_no_output out
}

@test "reordered chunks exit 3" {
	sealed 200000
	off=$(payload_off c.age)
	python3 -c 'import sys; o=int(sys.argv[1]); C=65552; d=open("c.age","rb").read(); open("t.age","wb").write(d[:o]+d[o+C:o+2*C]+d[o:o+C]+d[o+2*C:])' "$off"
	run ti-seal open -i key.txt -o out t.age
	assert_failure 3
	assert_output "ti-seal: chunk 0 does not authenticate (tampered or corrupt)"
	assert_no_output out
	# Dropping a middle chunk is caught too.
	python3 -c 'import sys; o=int(sys.argv[1]); C=65552; d=open("c.age","rb").read(); open("t.age","wb").write(d[:o+C]+d[o+2*C:])' "$off"
	run ti-seal open -i key.txt -o out t.age
	assert_failure 3
	assert_no_output out
}

@test "I/O errors exit 4" {
	run ti-seal seal -r "$R" -o out missing.bin
	assert_failure 4
	assert_output --partial "unable to open missing.bin"
	run ti-seal seal -r "$R" -o nodir/out /dev/null
	assert_failure 4
	assert_output --partial "unable to create"
	run ti-seal open -i missing.txt /dev/null
	assert_failure 4
	mkdata p.bin 100000
	run ti-seal seal -a -r "$R" -o /dev/full p.bin
	assert_failure 4
	run sh -c 'ti-seal seal -a -r "$1" p.bin > /dev/full' sh "$R"
	assert_failure 4
	assert_output --partial "error writing output"
}

@test "constant memory: 256 MiB through a pipe in a few MiB of RSS" {
	# Under valgrind RSS means nothing and 256 MiB takes minutes.
	[ -z "${TI_VALGRIND:-}" ] || skip "not under valgrind"
	head -c 268435456 /dev/zero | /usr/bin/time -f '%M' -o rss.seal \
	    ti-seal seal -r "$R" > big.age
	/usr/bin/time -f '%M' -o rss.open ti-seal open -i key.txt big.age |
	    cmp - <(head -c 268435456 /dev/zero)
	rm -f big.age
	echo "seal RSS $(cat rss.seal) KiB, open RSS $(cat rss.open) KiB"
	# The sanitizers add their own shadow memory and quarantine.
	max=16384
	case $TI_BUILD in */san) max=49152 ;; esac
	[ "$(tail -1 rss.seal)" -lt "$max" ]
	[ "$(tail -1 rss.open)" -lt "$max" ]
}

@test "the test vector of docs/age.md opens with ti-seal and age" {
	printf 'AGE-SECRET-KEY-1QYPQXPQ9QCRSSZG2PVXQ6RS0ZQG3YYC5Z5TPWXQERGD3C8G7RUSQGPQYEE\n' > v.txt
	chmod 600 v.txt
	run ti-seal pubkey -i v.txt
	assert_output age1q73he0q5yzfu3d64msd3p6rvksnrwjk3d2598mgtmlqt9wrdr37q2vrn72
	sed -n '/^    -----BEGIN AGE/,/^    -----END AGE/s/^    //p' \
	    "$TI_TOP/docs/age.md" > v.age
	run ti-seal open -i v.txt v.age
	assert_success
	assert_output "hello, ti"
	sed '1d;$d' v.age | base64 -d > v.bin
	run sha256sum v.bin
	assert_output --partial d7740466d47616bd8f5b0fc808d4bc19a730d5037ea90ab2c143860d0116854d
	run age -d -i v.txt v.bin
	assert_output "hello, ti"
}

# The identity of an attested process, derived from the sim platform
# secret as lib/keys.c does, in age's Bech32 form.
attested_identity() {
	python3 - "$TI_HOME/platform.key" "$1" <<'PYEOF'
import sys
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
sk = HKDF(hashes.SHA256(), 32, b"ti-attest/v1",
          b"x25519" + sys.argv[2].encode()).derive(open(sys.argv[1], "rb").read())
CH = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
def polymod(v):
    g = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3]
    c = 1
    for x in v:
        b = c >> 25
        c = (c & 0x1ffffff) << 5 ^ x
        for i in range(5):
            c ^= g[i] if (b >> i) & 1 else 0
    return c
hrp = "age-secret-key-"
acc = bits = 0
data = []
for byte in sk:
    acc = acc << 8 | byte
    bits += 8
    while bits >= 5:
        bits -= 5
        data.append(acc >> bits & 31)
if bits:
    data.append(acc << (5 - bits) & 31)
ex = [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp]
pm = polymod(ex + data + [0] * 6) ^ 1
data += [pm >> 5 * (5 - i) & 31 for i in range(6)]
print((hrp + "1" + "".join(CH[d] for d in data)).upper())
PYEOF
}

@test "seal --evidence: verified, then sealed to the attested recipient" {
	command -v ti-attest >/dev/null || skip "ti-attest not built"
	export TI_HOME=$BATS_TEST_TMPDIR/plat
	ti-attest init 2>/dev/null
	printf '.\n' > p.jq
	ti-attest manifest p.jq --to "$R" --from any > m.json
	M=$(ti-attest measure --manifest m.json)
	ti-attest quote --manifest m.json --nonce AAAAAAAAAAAAAAAAAAAAAA > ev
	attested_identity "$M" > proc.txt
	chmod 600 proc.txt
	run ti-seal pubkey -i proc.txt
	assert_output "$(ti-attest keys --manifest m.json | head -1)"
	mkdata p.bin 100000
	ti-seal seal --evidence ev --trust "$TI_HOME/root.pem" \
	    --policy ".tee == \"sim\" and .measurement == \"$M\"" -o c.age p.bin
	ti-seal open -i proc.txt c.age | cmp - p.bin
	run ti-seal open -i key.txt c.age
	assert_failure 1
	# A policy that says no: nothing sealed.
	run ti-seal seal --evidence ev --trust "$TI_HOME/root.pem" \
	    --policy '.measurement == "sha256:00"' -o d.age p.bin
	assert_failure 1
	assert_output --partial "policy"
	assert_no_output d.age
	# Tampered evidence: nothing sealed.
	sed 's/\(.\)$/\1x/' ev > bad
	run ti-seal seal --evidence bad --trust "$TI_HOME/root.pem" \
	    --policy '.tee == "sim"' -o d.age p.bin
	assert_failure
	assert_no_output d.age
	# Untrusted roots: another platform's.
	TI_HOME=$BATS_TEST_TMPDIR/plat2 ti-attest init 2>/dev/null
	run ti-seal seal --evidence ev --trust "$BATS_TEST_TMPDIR/plat2/root.pem" \
	    --policy '.tee == "sim"' -o d.age p.bin
	assert_failure 1
	assert_no_output d.age
	run ti-seal seal --evidence ev -o d.age p.bin
	assert_failure 2
}

@test "pipes: slow and split input, both directions" {
	mkdata p.bin 150000
	(head -c 1000 p.bin; sleep 0.2; tail -c +1001 p.bin) |
	    ti-seal seal -r "$R" > c.age
	(head -c 100 c.age; sleep 0.2; tail -c +101 c.age) |
	    ti-seal open -i key.txt | cmp - p.bin
	ti-seal seal -a -r "$R" < p.bin |
	    (head -c 50; sleep 0.2; cat) | ti-seal open -i key.txt | cmp - p.bin
	(cat c.age; printf 'x') | ti-seal open -i key.txt > out.bin && false
	[ "$(stat -c %s out.bin)" -eq 131072 ]
}
