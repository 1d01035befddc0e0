"""HTTP plumbing shared by the channels: request ids and access logs, probes, the anonymous
micro-cache, media serving in the embedded default, and the benchmark's reference view."""
