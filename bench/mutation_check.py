"""The test command of bench/mutation.py: a fast contract run against tavus-mock built from the code on
PYTHONPATH (the mutated copy). Exit 0 when the contract is honoured (the mutant survived), 1 when not.

It runs the examples, coverage and stateful phases with 5 examples per operation and seed 1, against
a fresh server with the same settings as the project's own contract tests.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

KEY = "mutation-key"
SECOND = "mutation-other-key"  # a second account: tenancy checks


def main() -> int:
    from tavus_contract.cli import run
    from tavus_mock import Delays, MockConfig, MockServer, Spec, TavusMock

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the checkout: tests.contract.seed
    from tests.contract.seed import example_resources

    logging.getLogger("tavus_mock").setLevel(logging.CRITICAL)
    spec = Spec(Path(__file__).resolve().parents[1] / "openapi" / "tavus.yaml")
    config = MockConfig(api_keys=frozenset({KEY, SECOND}), delays=Delays.instant(), access_log=False)
    app = TavusMock(spec, config)
    app.store.load_seed_data(example_resources(spec, KEY))  # the same resources as the contract tests
    with MockServer(app) as server:
        result = run(
            server.url,
            KEY,
            phases=("examples", "coverage", "stateful"),
            max_examples=5,
            seed=1,
            spec=spec.path,
            refusals="all",
            second_key=SECOND,
        )
    failed = [f"{op.name} [{','.join(op.checks)}]" for op in result.failed]
    print(("honoured" if result.ok else "broken: " + "; ".join(failed))[:500])
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main())
