# Shared pieces of the VM tests: addresses, the appliance as a test node, the
# update server, signing and booting a built disk image.
{ pkgs, lib }:

rec {
  # One L2 segment: the appliance bridges vlan 1 (WAN side) and vlan 2 (LAN
  # side), so client and server share a subnet as they would on site.
  net = {
    appliance = "192.168.77.1";
    client = "192.168.77.2";
    server = "192.168.77.3";
    blocked = "192.168.77.4";
  };

  keyring = import ./gpg-keyring.nix { inherit pkgs; };

  # What a release manager does offline: sign SHA256SUMS with the release key.
  sign =
    update:
    pkgs.runCommand "${update.name}-signed" { nativeBuildInputs = [ pkgs.gnupg ]; } ''
      mkdir -p $out
      cp ${update}/* $out/
      export GNUPGHOME=$(mktemp -d)
      cp -R ${keyring}/. "$GNUPGHOME"/
      chmod -R u+w "$GNUPGHOME"
      chmod 700 "$GNUPGHOME"
      gpg --batch --yes --detach-sign --output $out/SHA256SUMS.gpg $out/SHA256SUMS
    '';

  appliance =
    { pkgs, ... }:
    {
      imports = [ ../../modules ];
      virtualisation = {
        vlans = [ ];
        interfaces = {
          wan0.vlan = 1;
          lan0.vlan = 2;
        };
        memorySize = 2048;
        cores = 2;
      };
      services.mamori = {
        enable = true;
        ports = {
          wan = "wan0";
          lan = "lan0";
        };
        management = {
          mode = "static";
          address = "${net.appliance}/24";
        };
        staticBlocklist = [ net.blocked ];
        queues.count = 2;
        update = {
          url = "http://${net.server}/";
          signingKey = "${keyring}/pubkey.gpg";
        };
      };
      environment.systemPackages = [
        pkgs.curl
        pkgs.lvm2
        # The tests run systemd-sysupdate from the shell; its signature
        # check needs gpg on PATH.
        pkgs.gnupg
      ];
    };

  # The appliance booted from its own disk image instead of the test
  # framework's kernel and 9p store.
  applianceImage =
    { lib, ... }:
    {
      imports = [
        appliance
        ../../images/appliance.nix
      ];
      virtualisation = {
        directBoot.enable = false;
        mountHostNixStore = false;
        useEFIBoot = true;
        fileSystems = lib.mkVMOverride (import ../../images/filesystems.nix);
      };
    };

  host =
    { address, vlan }:
    {
      virtualisation.vlans = [ ];
      virtualisation.interfaces.eth1 = { inherit vlan; };
      networking.interfaces.eth1.ipv4.addresses = [
        {
          inherit address;
          prefixLength = 24;
        }
      ];
    };

  updateServer = {
    imports = [
      (host {
        address = net.server;
        vlan = 1;
      })
    ];
    networking.firewall.allowedTCPPorts = [ 80 ];
    services.nginx = {
      enable = true;
      virtualHosts.updates = {
        default = true;
        root = "/srv/updates";
      };
    };
    systemd.tmpfiles.rules = [ "d /srv/updates 0755 root root -" ];
  };

  # Python: give `machine` a copy-on-write disk backed by a built image. The
  # run script reads NIX_DISK_IMAGE at every start, so power-cycles keep the
  # disk; start other machines before calling this.
  useImage =
    node: # python
    ''
      def use_image(image):
          import os
          import subprocess
          import tempfile

          disk = tempfile.NamedTemporaryFile(suffix=".qcow2", delete=False)
          subprocess.run(
              [
                  "${node.virtualisation.qemu.package}/bin/qemu-img",
                  "create", "-f", "qcow2", "-b", image, "-F", "raw", disk.name,
              ],
              check=True,
          )
          os.environ["NIX_DISK_IMAGE"] = disk.name


      def image_version(machine):
          for line in machine.succeed("cat /etc/os-release").splitlines():
              if line.startswith("IMAGE_VERSION="):
                  return line.split("=", 1)[1].strip('"')
          raise AssertionError("os-release has no IMAGE_VERSION")


      def uki_files(machine):
          return sorted(machine.succeed("ls /boot/EFI/Linux").split())
    '';

  diskImage = node: "${node.system.build.image}/${node.image.fileName}";

  sysupdate = node: "${node.systemd.package}/lib/systemd/systemd-sysupdate";
}
