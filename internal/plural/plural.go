// Package plural writes counts with the right noun form: "1 file", "2 files".
package plural

import "fmt"

// Of returns n followed by one when n is 1 (or -1), else by many.
func Of(n int, one, many string) string {
	if n == 1 || n == -1 {
		return fmt.Sprintf("%d %s", n, one)
	}
	return fmt.Sprintf("%d %s", n, many)
}
