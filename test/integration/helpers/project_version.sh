# project_version: the version the Makefile reads from the header, printed
# alone. Under make check this runs inside a sub-make, whose inherited
# flags would make the inner make print "Entering directory" lines too:
# they are removed, and only the last line is kept. Sourced by the tests
# that need it (they may or may not source common.sh).
project_version() {
    env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s --no-print-directory print-version | tail -n 1
}
