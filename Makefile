# vipcall: the two commands.
#   make run   - set everything up and run the service with its defaults (foreground)
#   make test  - run the whole test suite (unit + end-to-end with real Asterisk, PostgreSQL, SIPp)
.PHONY: run run-two-nodes test bench setup lint

setup:
	scripts/bootstrap.sh

run: setup
	.venv/bin/python -m vipcall.devstack

# Kamailio on 127.0.0.1:5060 in front of two Asterisk nodes, one app each (README "Two nodes
# behind Kamailio"); instead of `make run`, not beside it.
run-two-nodes: setup
	.venv/bin/python -m vipcall.cluster

test: setup
	.venv/bin/python -m vipcall.prompts.generate --check
	VIPCALL_REQUIRE_SANDBOX=1 .venv/bin/pytest   # a missing Asterisk sandbox fails, not skips

bench: setup
	scripts/bench-tools.sh
	.venv/bin/python -m bench.run

lint:
	.venv/bin/ruff check vipcall tests bench
