# vipcall: the two commands.
#   make run   - set everything up and run the service with its defaults (foreground)
#   make test  - run the whole test suite (unit + end-to-end with real Asterisk, PostgreSQL, SIPp)
.PHONY: run test bench setup lint

setup:
	scripts/bootstrap.sh

run: setup
	.venv/bin/python -m vipcall.devstack

test: setup
	.venv/bin/python -m vipcall.prompts.generate --check
	VIPCALL_REQUIRE_SANDBOX=1 .venv/bin/pytest   # a missing Asterisk sandbox fails, not skips

bench: setup
	scripts/bench-tools.sh
	.venv/bin/python -m bench.run

lint:
	.venv/bin/ruff check vipcall tests bench
