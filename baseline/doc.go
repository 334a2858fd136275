// Package baseline owns tailgate's stores of results: which runs were kept per suite and per
// environment key, which one is the baseline, the append-only history of nightly verdicts and
// promotions, retention (prune) and integrity (a SHA-256 manifest per stored run). There are
// two kinds of store behind one interface: a local folder and a branch of a git repository
// driven through the git CLI, so a fleet of boards can share baselines.
//
// It does not define the result format (baseline/result), measure (harness) or decide verdicts
// (gate): a promotion's verdict is an input given by the caller. The on-disk layout is
// documented in docs/store.md.
package baseline
