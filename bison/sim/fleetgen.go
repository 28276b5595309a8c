package sim

import (
	"fmt"
	"math"
	"strconv"
)

// workspacesPerInstance is how many workspaces GenerateFleet puts on one installation.
const workspacesPerInstance = 500

// GenerateFleet builds a fleet of exactly workspaces workspaces holding exactly accounts
// accounts, deterministic in seed. Sizes are skewed (log-normal: a few large workspaces,
// many small ones, every one at least 1 account), spread over one instance per 500
// workspaces named "bison-1", "bison-2", .... About 3% of workspaces have no key of their
// own and must be reached through their instance's super-admin key.
//
// Accounts are generated on demand, so GenerateFleet(seed, 2000, 1_000_000) takes
// milliseconds and a few hundred kilobytes. It panics if workspaces < 1 or
// accounts < workspaces, which no caller can mean.
func GenerateFleet(seed int64, workspaces, accounts int) *Fleet {
	if workspaces < 1 || accounts < workspaces {
		panic(fmt.Sprintf("sim: GenerateFleet(%d workspaces, %d accounts): need 1 <= workspaces <= accounts",
			workspaces, accounts))
	}
	sizes := skewedSizes(seed, workspaces, accounts)
	names := workspaceNames(seed, workspaces)

	nInst := (workspaces + workspacesPerInstance - 1) / workspacesPerInstance
	f := &Fleet{Instances: make([]*Instance, nInst)}
	r := newRNG(uint64(seed), saltFleet)
	w := 0
	for i := range nInst {
		in := &Instance{Name: "bison-" + strconv.Itoa(i+1)}
		tokenID := 1 + r.intn(40)
		in.SuperAdminKey = sanctumKey(seed+int64(i)<<32, tokenID)
		n := min(workspacesPerInstance, workspaces-w)
		in.Workspaces = make([]*Workspace, 0, n)
		wsID := 1
		firstID := int64(1000 + r.intn(9000))
		for range n {
			wsID += 1 + r.intn(3)
			ws := &Workspace{
				ID:      wsID,
				Name:    names[w],
				Seed:    int64(mix64(uint64(seed) ^ uint64(i)<<40 ^ uint64(wsID))),
				Count:   sizes[w],
				FirstID: firstID,
			}
			tokenID += 1 + r.intn(5)
			if r.intn(100) >= 3 {
				ws.Key = sanctumKey(seed+int64(i)<<32, tokenID)
			}
			firstID += 3*int64(ws.Count) + int64(1+r.intn(200))
			in.Workspaces = append(in.Workspaces, ws)
			w++
		}
		f.Instances[i] = in
	}
	return f
}

// skewedSizes splits total into n log-normal shares of at least 1, summing exactly to total.
func skewedSizes(seed int64, n, total int) []int {
	r := newRNG(uint64(seed), saltSize)
	weights := make([]float64, n)
	sum := 0.0
	for i := range weights {
		weights[i] = math.Exp(1.2 * r.normal())
		sum += weights[i]
	}
	spare := total - n
	sizes := make([]int, n)
	given := 0
	for i, wt := range weights {
		sizes[i] = 1 + int(float64(spare)*wt/sum)
		given += sizes[i]
	}
	for i := 0; given < total; i = (i + 1) % n {
		sizes[i]++
		given++
	}
	return sizes
}

// workspaceNames makes n distinct plausible names: agencies ("Castle Agency") and, as in
// production, a few workspaces named after their client ("Jason Binyon").
func workspaceNames(seed int64, n int) []string {
	r := newRNG(uint64(seed), saltName)
	seen := make(map[string]bool, n)
	names := make([]string, 0, n)
	for len(names) < n {
		var name string
		for try := 0; ; try++ {
			if r.intn(4) == 0 {
				name = firstNames[r.intn(len(firstNames))].display + " " + lastNames[r.intn(len(lastNames))].display
			} else {
				name = brandWords[r.intn(len(brandWords))] + " " + agencyKinds[r.intn(len(agencyKinds))]
			}
			if try >= 8 {
				name += " " + strconv.Itoa(len(names)+1)
			}
			if !seen[name] {
				break
			}
		}
		seen[name] = true
		names = append(names, name)
	}
	return names
}
