#! @shell@
# shellcheck shell=bash

exec @prog@ --enable-deterministic-archives "$@"
