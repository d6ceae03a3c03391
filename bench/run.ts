/**
 * @module bench/run
 * `npm run bench`: benchmarks are not written yet (see the benchmarks issue). This says so and
 * exits 0 rather than pretending to measure anything.
 */
process.stdout.write("no benchmarks yet: see bench/README.md\n");
