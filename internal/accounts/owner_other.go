//go:build !unix

package accounts

func keepDirOwner(string) {}
