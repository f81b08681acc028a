package accounts

import (
	"fmt"

	"strings"

	"github.com/hark-intercom/hark/proto"
)

// CheckCallees checks the names a call goes to (client.Callees of a "--to"
// or a box's call =): user names, or proto.GroupCallRole and a role
// ("role:page"); at least one, at most proto.MaxCallees, and not self.
func CheckCallees(names []string, self string) error {
	switch {
	case len(names) == 0:
		return fmt.Errorf("the call names nobody: give a user, a comma-separated list of users, or role:NAME")
	case len(names) > proto.MaxCallees:
		return fmt.Errorf("the call names %d people: a call reaches at most %d", len(names), proto.MaxCallees)
	}
	for _, n := range names {
		if role, ok := strings.CutPrefix(n, proto.GroupCallRole); ok {
			if r, err := ParseRoles(role); err != nil || r == 0 || strings.Contains(role, ",") {
				return fmt.Errorf("%s: there is no role %q (the roles are page and admin)", n, role)
			}
			continue
		}
		if err := CheckName("user", n); err != nil {
			return err
		}
		if n == self {
			return fmt.Errorf("%s is you: call someone else", n)
		}
	}
	return nil
}
