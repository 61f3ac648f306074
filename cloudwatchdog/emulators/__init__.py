"""Local cloud emulators (moto server) for tests, the demo and benchmarks."""
