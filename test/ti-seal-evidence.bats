#!/usr/bin/env bats
# ti-seal seal --evidence: evidence verified (roots, nonce, policy) before
# anything is sealed to the recipient it binds; nothing written otherwise.

load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'

setup() {
	cd "$BATS_TEST_TMPDIR" || exit 1
	export TI_HOME=$BATS_TEST_TMPDIR/plat
	ti-attest init 2>/dev/null
	ti-seal keygen -o key.txt 2>/dev/null
	R=$(ti-seal pubkey -i key.txt)
	printf '.\n' >p.jq
	ti-attest manifest p.jq --to "$R" --from any >m.json
	M=$(ti-attest measure --manifest m.json)
	N=$(head -c 16 /dev/urandom | basenc --base64url | tr -d =)
	ti-attest quote --manifest m.json --nonce "$N" >ev
	"$TI_BUILD/test/helpers/attest-identity" "$TI_HOME" m.json proc.txt
	POL=".tee == \"sim\" and .measurement == \"$M\""
	head -c 70000 /dev/urandom >p.bin
	V=$TI_SHARED/vectors
}

# nothing_written FILE: no output file and no temporary beside it.
nothing_written() {
	[ ! -e "$1" ]
	run compgen -G "$1.tmp.*"
	assert_failure
}

@test "sealed to the attested recipient, with the nonce it binds" {
	ti-seal seal --evidence ev --trust "$TI_HOME/root.pem" --policy "$POL" \
	    --nonce "$N" -o c.age p.bin
	ti-seal open -i proc.txt c.age | cmp - p.bin
	# Only the attested process opens it.
	run ti-seal open -i key.txt c.age
	assert_failure 1
	# age opens it too, with the process's identity.
	age -d -i proc.txt c.age | cmp - p.bin
}

@test "a policy file; armored output; evidence from stdin" {
	printf '{"tee": ". == \\"sim\\"", "measurement": ". == \\"%s\\""}\n' "$M" >pol.json
	ti-seal seal --evidence - --trust "$TI_HOME/root.pem" \
	    --policy-file pol.json -a -o c.age p.bin <ev
	head -1 c.age | grep -q 'BEGIN AGE ENCRYPTED FILE'
	ti-seal open -i proc.txt c.age | cmp - p.bin
}

@test "a wrong nonce: nothing sealed" {
	other=$(head -c 16 /dev/urandom | basenc --base64url | tr -d =)
	run ti-seal seal --evidence ev --trust "$TI_HOME/root.pem" \
	    --policy "$POL" --nonce "$other" -o c.age p.bin
	assert_failure 1
	assert_output "ti-seal: nonce mismatch"
	nothing_written c.age
}

@test "a policy that denies, or does not name sim: nothing sealed" {
	run ti-seal seal --evidence ev --trust "$TI_HOME/root.pem" \
	    --policy '{"measurement": ". == \"sha256:00\""}' -o c.age p.bin
	assert_failure 1
	assert_output "ti-seal: policy denied: measurement"
	nothing_written c.age
	run ti-seal seal --evidence ev --trust "$TI_HOME/root.pem" \
	    --policy ".measurement == \"$M\"" -o c.age p.bin
	assert_failure 1
	assert_output --partial "policy does not name sim"
	nothing_written c.age
}

@test "tampered evidence, another platform's root: nothing sealed" {
	python3 - <<'PY'
import base64, json
h, p, s = open("ev").read().strip().split(".")
d = lambda x: base64.urlsafe_b64decode(x + "=" * (-len(x) % 4))
c = json.loads(d(p))
c["recipient"] = "age1zvkyg2lqzraa2lnjvqej32nkuu0ues2s82hzrye869xeexvn73equnujwj"
p = base64.urlsafe_b64encode(json.dumps(c).encode()).rstrip(b"=").decode()
open("bad", "w").write(h + "." + p + "." + s + "\n")
PY
	run ti-seal seal --evidence bad --trust "$TI_HOME/root.pem" \
	    --policy "$POL" -o c.age p.bin
	assert_failure 1
	assert_output "ti-seal: evidence signature does not verify"
	nothing_written c.age
	TI_HOME=$BATS_TEST_TMPDIR/plat2 ti-attest init 2>/dev/null
	run ti-seal seal --evidence ev --trust "$BATS_TEST_TMPDIR/plat2/root.pem" \
	    --policy "$POL" -o c.age p.bin
	assert_failure 1
	nothing_written c.age
	printf 'not evidence\n' >junk
	run ti-seal seal --evidence junk --trust "$TI_HOME/root.pem" \
	    --policy "$POL" -o c.age p.bin
	assert_failure 3
	nothing_written c.age
}

@test "hardware evidence that binds no recipient: nothing sealed" {
	run ti-seal seal --evidence "$V/sgx-dcap/sgx_quote" \
	    --trust "$V/sgx-dcap/TrustedRootCA.der" --policy '.tee == "sgx"' \
	    -o c.age p.bin
	assert_failure 1
	assert_output --partial "the evidence binds no recipient; nothing to seal to"
	nothing_written c.age
}

@test "usage: one policy, --trust, a well-formed nonce (exit 2); unreadable (exit 4)" {
	run ti-seal seal --evidence ev --trust "$TI_HOME/root.pem" -o c.age p.bin
	assert_failure 2
	run ti-seal seal --evidence ev --trust "$TI_HOME/root.pem" \
	    --policy "$POL" --policy-file p.jq -o c.age p.bin
	assert_failure 2
	run ti-seal seal --evidence ev --policy "$POL" -o c.age p.bin
	assert_failure 2
	run ti-seal seal --evidence ev --trust "$TI_HOME/root.pem" \
	    --policy "$POL" --nonce '!!' -o c.age p.bin
	assert_failure 2
	assert_output --partial "--nonce"
	run ti-seal seal -r "$R" --nonce "$N" -o c.age p.bin
	assert_failure 2
	run ti-seal seal --evidence ev --trust "$TI_HOME/root.pem" \
	    --policy-file missing.jq -o c.age p.bin
	assert_failure 4
	run ti-seal seal --evidence missing --trust "$TI_HOME/root.pem" \
	    --policy "$POL" -o c.age p.bin
	assert_failure 4
	nothing_written c.age
}
