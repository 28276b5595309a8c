package sim

import "math"

// rng is a splitmix64 stream. It is tiny, allocation-free and seedable from a few integers,
// which is what generating any account of a million on demand needs: math/rand/v2 sources
// are larger to seed and would have to be shared (and locked) or allocated per account.
type rng struct{ s uint64 }

// newRNG seeds a stream from the parts that identify what is being generated, so that the
// same (seed, workspace, index) always yields the same account.
func newRNG(parts ...uint64) rng {
	h := uint64(0x6a09e667f3bcc908)
	for _, p := range parts {
		h = mix64(h ^ p)
	}
	return rng{s: h}
}

func mix64(z uint64) uint64 {
	z += 0x9e3779b97f4a7c15
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}

func (r *rng) next() uint64 {
	r.s += 0x9e3779b97f4a7c15
	z := r.s
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}

// intn returns a value in [0, n); the modulo bias is irrelevant for test data.
func (r *rng) intn(n int) int {
	if n <= 0 {
		return 0
	}
	return int(r.next() % uint64(n))
}

// float returns a value in [0, 1).
func (r *rng) float() float64 {
	return float64(r.next()>>11) / (1 << 53)
}

// between returns a value in [lo, hi).
func (r *rng) between(lo, hi float64) float64 {
	return lo + (hi-lo)*r.float()
}

// normal returns a standard normal value (Box-Muller).
func (r *rng) normal() float64 {
	u1 := r.float()
	if u1 < 1e-12 {
		u1 = 1e-12
	}
	u2 := r.float()
	return math.Sqrt(-2*math.Log(u1)) * math.Cos(2*math.Pi*u2)
}
