"""Stackyard's engine and cluster tiers: build the Go toolchains, drive the real Pulumi engine, run a
local control plane. Development tooling only: it is not part of the published distribution."""
