// The Swift code of every interface in this directory is generated at build time by
// VarlinkCodegenPlugin from the *.varlink files beside this one. SwiftPM builds a target
// only when it has at least one Swift source, which is why this file exists.
