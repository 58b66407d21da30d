# Sourced by build-release.sh and build-deb.sh: sets and exports
# SOURCE_DATE_EPOCH, the one date a reproducible build may carry. In order:
# the environment; the SOURCE_DATE_EPOCH file of a source tarball
# (packaging/vendor.sh writes it); the commit time in a git checkout; in a
# download without git (a ZIP of the repository), the newest source file's
# time, which the archive sets to the commit's - said on stderr.
if [ -z "${SOURCE_DATE_EPOCH:-}" ]; then
  if [ -f SOURCE_DATE_EPOCH ]; then
    SOURCE_DATE_EPOCH=$(cat SOURCE_DATE_EPOCH)
  elif git rev-parse --git-dir >/dev/null 2>&1; then
    SOURCE_DATE_EPOCH=$(git log -1 --format=%ct)
  else
    SOURCE_DATE_EPOCH=$({ find Cargo.toml Cargo.lock src assets packaging -type f -printf '%T@\n' 2>/dev/null || true; } |
      sort -n | tail -1 | cut -d. -f1)
    if [ -z "$SOURCE_DATE_EPOCH" ]; then
      echo "sealtag: set SOURCE_DATE_EPOCH (no git, no SOURCE_DATE_EPOCH file, no sources found)" >&2
      exit 2
    fi
    echo "sealtag: not a git checkout and no SOURCE_DATE_EPOCH file: dating the build by the newest source file ($(date -u -d "@$SOURCE_DATE_EPOCH" +%FT%TZ)); set SOURCE_DATE_EPOCH to choose another" >&2
  fi
fi
export SOURCE_DATE_EPOCH
