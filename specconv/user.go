package specconv

import specs "github.com/opencontainers/runtime-spec/specs-go"

// noID is (uid_t)-1 and (gid_t)-1: setresuid and setresgid read it as "leave
// this id unchanged", so a process asking for it would silently keep the
// init's ids, root included.
const noID = 1<<32 - 1

// checkUser refuses the one uid and gid value the kernel does not treat as
// an id.
func checkUser(u specs.User) error {
	const why = "is (uid_t)-1, which setuid/setgid read as \"no change\": the process would keep root's ids"
	if u.UID == noID {
		return badValue("process.user.uid", u.UID, "%s", why)
	}
	if u.GID == noID {
		return badValue("process.user.gid", u.GID, "%s", why)
	}
	for i, g := range u.AdditionalGids {
		if g == noID {
			return badValue(at("process.user.additionalGids", i), g, "is (gid_t)-1, not a group id")
		}
	}
	return nil
}
