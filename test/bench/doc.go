// Package bench measures what rsprep costs at scale, against the real
// kernel in fresh network namespaces.
//
// The Go benchmarks (bench_test.go) drive the engine in-process, for
// profiles (-cpuprofile, -memprofile) and allocation counts:
//
//	go test -run XXX -bench . -benchtime 3x ./test/bench -vips 1,100,1000,10000
//
// compare.sh measures the binary users run against `ip -batch` and the
// classic LVS real-server script, and prints the table of
// test/bench/README.md:
//
//	test/bench/compare.sh
package bench
