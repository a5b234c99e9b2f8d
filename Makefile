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
	.venv/bin/pytest

bench: setup
	.venv/bin/python -m bench.run

lint:
	.venv/bin/ruff check vipcall tests bench
