"""tavus_spec: where the OpenAPI spec lives and how it is read, shared by tavus_mock, tavus_contract and
`make generate`, so none of them imports another.

`tavus_spec.specfile` (needs PyYAML, present with either extra) finds the spec (`TAVUS_SPEC`, else the
copy packaged with tavus_client) and reads it with `FILE:LINE: problem` errors; `tavus_spec.extras`
(standard library only) tells a console script which extra is missing.
"""
