# One derivation for the whole Cargo workspace: every binary target
# (mamori-inspect, mamori-netd, mamori-agent, ...) lands in $out/bin. One
# build shares one dependency compilation, which is what makes it cheaper than
# a derivation per binary.
{
  lib,
  rustPlatform,
  pkg-config,
  vectorscan,
}:

let
  root = ../.;
  workspace = lib.importTOML ../Cargo.toml;
in
rustPlatform.buildRustPackage {
  pname = "mamori";
  inherit (workspace.workspace.package) version;

  # Only what cargo reads: a docs or Nix change must not rebuild the services.
  src = lib.fileset.toSource {
    inherit root;
    fileset = lib.fileset.unions [
      ../Cargo.toml
      ../Cargo.lock
      (lib.fileset.difference ../services (lib.fileset.maybeMissing ../services/fuzz))
    ];
  };

  cargoLock.lockFile = ../Cargo.lock;

  cargoBuildFlags = [ "--workspace" ];

  nativeBuildInputs = [ pkg-config ];
  # Hyperscan is x86-only; vectorscan is its portable fork with the same API.
  buildInputs = [ vectorscan ];

  # The unit tests run in the Rust CI (cargo test) with the shared test data;
  # in the sandbox that data is absent and the run would only repeat them.
  doCheck = false;

  meta = {
    description = "Mamori inline security gateway services";
    license = lib.licenses.asl20;
    platforms = [ "x86_64-linux" ];
  };
}
