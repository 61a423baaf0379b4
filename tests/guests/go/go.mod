// The Go test guests: standard library only, built offline by xtask/src/guests.rs.
module wasirun.test/guests

go 1.22
