{
  description = "Mamori inline security gateway: services, NixOS modules, appliance image, VM tests";

  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-26.05";

  outputs =
    { self, nixpkgs }:
    let
      system = "x86_64-linux";
      inherit (nixpkgs) lib;
      pkgs = nixpkgs.legacyPackages.${system};

      # An appliance: the services, the disk image, and the provider's own
      # settings (update server, keys, ...) as extra modules.
      mkAppliance =
        modules:
        lib.nixosSystem {
          inherit system;
          modules = [
            self.nixosModules.default
            self.nixosModules.image
            { services.mamori.enable = true; }
          ]
          ++ modules;
        };

      appliance = self.nixosConfigurations.appliance.config;

      # Boots a copy-on-write overlay of the built image under QEMU/OVMF.
      # WAN is QEMU user networking (DHCP for the management address); LAN
      # is a UDP tunnel another VM can attach to.
      runVm = pkgs.writeShellApplication {
        name = "mamori-run-vm";
        runtimeInputs = [
          pkgs.qemu_kvm
          pkgs.coreutils
        ];
        text = ''
          state=''${MAMORI_VM_DIR:-$(mktemp -d)}
          if [ ! -e "$state/disk.qcow2" ]; then
            qemu-img create -q -f qcow2 -F raw \
              -b ${appliance.system.build.image}/${appliance.image.fileName} \
              "$state/disk.qcow2"
            install -m 0644 ${pkgs.OVMF.fd}/FV/OVMF_VARS.fd "$state/vars.fd"
          fi
          echo "mamori-run-vm: state in $state (set MAMORI_VM_DIR to keep it)" >&2
          echo "mamori-run-vm: LAN is UDP 127.0.0.1:10770 <-> :10771" >&2
          exec qemu-system-x86_64 \
            -machine q35,accel=kvm:tcg -cpu max -smp 2 -m 2048 \
            -drive if=pflash,format=raw,readonly=on,file=${pkgs.OVMF.fd}/FV/OVMF_CODE.fd \
            -drive if=pflash,format=raw,file="$state/vars.fd" \
            -drive if=virtio,format=qcow2,file="$state/disk.qcow2" \
            -netdev user,id=wan -device virtio-net-pci,netdev=wan \
            -netdev dgram,id=lan,local.type=inet,local.host=127.0.0.1,local.port=10770,remote.type=inet,remote.host=127.0.0.1,remote.port=10771 \
            -device virtio-net-pci,netdev=lan \
            -nographic "$@"
        '';
      };
    in
    {
      lib = { inherit mkAppliance; };

      nixosModules = {
        default = ./modules;
        image = ./images/appliance.nix;
      };

      nixosConfigurations.appliance = mkAppliance [ ];

      packages.${system} = {
        mamori = pkgs.callPackage ./modules/package.nix { };
        default = self.packages.${system}.mamori;
        # The disk image to write to a USB stick or SSD.
        image = appliance.system.build.image;
        # The files the update server publishes for this version.
        update = appliance.system.build.mamoriUpdate;
        run-vm = runVm;
      };

      apps.${system}.run-vm = {
        type = "app";
        program = lib.getExe runVm;
      };

      checks.${system} = import ./tests/nixos { inherit pkgs; } // {
        formatting = pkgs.runCommand "mamori-nixfmt" { nativeBuildInputs = [ pkgs.nixfmt ]; } ''
          cd ${self}
          find . -name '*.nix' -print0 | xargs -0 nixfmt --check
          touch $out
        '';
      };

      formatter.${system} = pkgs.nixfmt-tree;
    };
}
