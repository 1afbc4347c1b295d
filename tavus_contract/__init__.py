"""tavus_contract: check that a server honours the Tavus v2 spec (`tavus-contract --base-url ...`).

Its own product, for teams checking an implementation of the Tavus API: it needs the spec
(tavus_spec) and schemathesis, never the reference server's code. The custom checks are in
`tavus_contract.hooks`, the schemathesis settings in `tavus_contract/schemathesis.toml`.
"""
