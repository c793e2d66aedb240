// The benchmark suite arrives with its own issue (intake, end-to-end, dispatch against the ceiling,
// peers, detection, scale). Until then this says so plainly rather than printing made-up figures.
console.log('no benchmarks yet');
