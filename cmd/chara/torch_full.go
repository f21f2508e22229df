//go:build !chara_notorch

package main

// torchNote is what "chara version" adds about libtorch: nothing in the
// full build, which links it (chara doctor reports its version).
func torchNote() string { return "" }
