# services.mamori: options, rendered configs, daemons, data path, boot
# health and access. Import this from a NixOS configuration; the disk image
# layout and updates are in ../images/appliance.nix.
{
  imports = [
    ./options.nix
    ./services.nix
    ./datapath.nix
    ./health.nix
    ./access.nix
  ];
}
