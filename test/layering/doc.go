// Package layering holds one test, layering_test.go: it fails the build
// when a package imports across a boundary the architecture draws (see
// docs/architecture.md, "Layers"). It has no code of its own.
package layering
