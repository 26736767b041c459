# The VM tests, wired into the flake's checks.x86_64-linux.
{ pkgs }:

let
  run = file: pkgs.testers.runNixOSTest file;
in
{
  datapath = run ./datapath.nix;
  image = run ./image.nix;
  update = run ./update.nix;
  rollback = run ./rollback.nix;
}
