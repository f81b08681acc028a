// Package protov1 is a frozen copy of package proto as it was when it spoke
// only protocol version 1 (commit 2270f87, before issue 11). Compatibility
// tests use it as "today's binary": a v1 box or client must keep working
// with a newer relay, and the newer client must read what a v1 relay sends.
//
// Never change this package, except to keep it compiling; a change here
// hides exactly the incompatibility these tests exist to catch. Only tests
// import it.
package protov1
