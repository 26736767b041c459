# No SSH and no login by default. services.mamori.maintenance.enable opens SSH
# for root with keys only; no account ever has a password.
{ config, lib, ... }:

let
  cfg = config.services.mamori;
in
{
  config = lib.mkIf cfg.enable (
    lib.mkMerge [
      {
        users.mutableUsers = false;
        # "!" can never match a password: console and sulogin refuse root.
        users.users.root.hashedPassword = "!";
        # Without maintenance nobody can log in, which is the point.
        users.allowNoPasswordLogin = !cfg.maintenance.enable;
        services.openssh.enable = cfg.maintenance.enable;
      }
      (lib.mkIf cfg.maintenance.enable {
        services.openssh = {
          openFirewall = true;
          settings = {
            PasswordAuthentication = false;
            KbdInteractiveAuthentication = false;
            PermitRootLogin = "prohibit-password";
          };
          # / is a tmpfs: the host key lives on the state partition so it
          # survives reboots and updates.
          hostKeys = [
            {
              path = "/var/lib/ssh/ssh_host_ed25519_key";
              type = "ed25519";
            }
          ];
        };
        users.users.root.openssh.authorizedKeys.keys = cfg.maintenance.authorizedKeys;
      })
    ]
  );
}
