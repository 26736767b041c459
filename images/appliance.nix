# The appliance disk image and its whole-image updates.
#
#   ESP         systemd-boot + one UKI per installed version (EFI/Linux)
#   verity A/B  dm-verity hash partitions, labelled <id>-verity_<version>
#   usr A/B     erofs with /nix/store, labelled <id>-usr_<version>
#   state       ext4, mounted on /var: events, keys, configuration overlays
#
# The B slots ship labelled `_empty`; systemd-sysupdate writes the next
# version there, the UKI last, so a boot entry only appears once both
# partitions are complete. Modelled on nixpkgs'
# nixos/tests/appliance-repart-image{,-verity-store}.nix and
# nixos/modules/image/repart-verity-store.nix.
{
  config,
  lib,
  pkgs,
  modulesPath,
  ...
}:

let
  cfg = config.mamori.image;
  mamori = config.services.mamori;
  inherit (config.image.repart.verityStore) partitionIds;
  inherit (pkgs.stdenv.hostPlatform) efiArch;

  id = config.system.image.id;
  inherit (config.system.image) version;
  inherit (config.system.boot.loader) ukiFile;

  # The flake builds x86_64-linux only.
  partitionType = {
    usr = "usr-x86-64";
    verity = "usr-x86-64-verity";
  };
  label = kind: "${id}-${kind}_${version}";

  # Every slot has a fixed size: the next version must fit the slot it is
  # written to, whatever this version needed.
  fixedSize = size: {
    SizeMinBytes = size;
    SizeMaxBytes = size;
  };

  # The verity-store module reads the usrhash of *every* usr-verity partition;
  # with an empty B slot that would add a "null". Only the A slot has a hash.
  uki =
    let
      cmdline = "init=${config.system.build.toplevel}/init ${toString config.boot.kernelParams}";
    in
    pkgs.runCommand ukiFile
      {
        nativeBuildInputs = [
          pkgs.buildPackages.jq
          pkgs.buildPackages.systemdUkify
        ];
      }
      ''
        mkdir -p $out
        usrhash=$(jq -r \
          '[.[] | select(.type == "${partitionType.verity}" and .roothash != null)][0].roothash' \
          ${config.system.build.intermediateImage}/repart-output.json)
        ukify build \
          --config=${config.boot.uki.configFile} \
          --cmdline="${cmdline} usrhash=$usrhash" \
          --output="$out/${ukiFile}"
      '';

  # What the update server publishes for this version (SHA256SUMS unsigned;
  # the release process adds SHA256SUMS.gpg, see docs/nixos.md).
  updatePackage =
    let
      # The final image, UKI in the ESP (named finalImage before 26.05,
      # which now only warns and forwards here).
      image = config.system.build.image;
      inherit (config.image) baseName;
    in
    pkgs.runCommand "${id}-update-${version}"
      {
        nativeBuildInputs = [
          pkgs.buildPackages.jq
          pkgs.buildPackages.xz
        ];
      }
      ''
        mkdir -p $out
        uuid() {
          jq -r --arg label "$1" '[.[] | select(.label == $label)][0].uuid' \
            ${image}/repart-output.json
        }
        usr_uuid=$(uuid ${label "usr"})
        verity_uuid=$(uuid ${label "verity"})
        # The partition UUID travels in the file name (@u): the usr UUID is
        # derived from the verity root hash and must be kept on install.
        xz -T"$NIX_BUILD_CORES" -3 -c ${image}/${baseName}.usr.raw \
          > "$out/${id}_${version}_$usr_uuid.usr.xz"
        xz -T"$NIX_BUILD_CORES" -3 -c ${image}/${baseName}.verity.raw \
          > "$out/${id}_${version}_$verity_uuid.verity.xz"
        cp ${config.system.build.uki}/${ukiFile} "$out/${id}_${version}.efi"
        (cd $out && sha256sum -- *.xz *.efi > SHA256SUMS)
      '';

  transfer = {
    # Never overwrite the running version, never go below this one.
    ProtectVersion = "%A";
    MinVersion = version;
    Verify = true;
  };

  source = pattern: {
    Type = "url-file";
    Path = "${mamori.update.url}images/";
    MatchPattern = pattern;
  };

  partitionTransfer = kind: {
    Transfer = transfer;
    Source = source "${id}_@v_@u.${kind}.xz";
    Target = {
      Type = "partition";
      # The disk backing /usr (the root is a tmpfs).
      Path = "auto";
      MatchPattern = "${id}-${kind}_@v";
      MatchPartitionType = partitionType.${kind};
      ReadOnly = true;
      InstancesMax = 2;
    };
  };
in
{
  imports = [
    "${modulesPath}/image/repart.nix"
    "${modulesPath}/profiles/image-based-appliance.nix"
  ];

  options.mamori.image = {
    espSize = lib.mkOption {
      type = lib.types.str;
      default = "512M";
      description = "ESP size; holds systemd-boot and two UKIs.";
    };
    usrSize = lib.mkOption {
      type = lib.types.str;
      default = "2G";
      description = "Size of each usr slot. Changing it needs a re-flash.";
    };
    veritySize = lib.mkOption {
      type = lib.types.str;
      default = "64M";
      description = "Size of each verity slot (about 1% of usrSize is used).";
    };
    stateSize = lib.mkOption {
      type = lib.types.str;
      default = "1G";
      description = "Size of the state partition (events, keys, configuration).";
    };
  };

  config = {
    system.image.id = lib.mkDefault "mamori";
    system.image.version = lib.mkDefault (lib.removeSuffix "\n" (builtins.readFile ./VERSION));
    system.stateVersion = "26.05";
    networking.hostName = lib.mkDefault "mamori";

    boot.loader.grub.enable = false;
    boot.initrd.systemd.enable = true;
    # The usr partitions are erofs (older verityStore modules do not add it).
    boot.initrd.supportedFilesystems.erofs = true;
    boot.initrd.availableKernelModules = [
      "nvme"
      "ahci"
      "sd_mod"
      "xhci_pci"
      "usb_storage"
      "uas"
      "virtio_pci"
      "virtio_blk"
      "virtio_scsi"
    ];
    # A kernel panic reboots; with boot counting that spends a try.
    boot.kernelParams = [
      "console=ttyS0,115200"
      "console=tty0"
      "panic=10"
    ];

    fileSystems = import ./filesystems.nix;

    # /usr is read-only; nothing here needs /usr/bin/env.
    system.activationScripts.usrbinenv = lib.mkForce "";

    image.repart = {
      split = true;
      verityStore.enable = true;
      partitions = {
        ${partitionIds.esp} = {
          contents = {
            "/EFI/BOOT/BOOT${lib.toUpper efiArch}.EFI".source =
              "${pkgs.systemd}/lib/systemd/boot/efi/systemd-boot${efiArch}.efi";
            "/loader/loader.conf".source = pkgs.writeText "loader.conf" ''
              timeout 0
              editor no
            '';
          };
          repartConfig = {
            Type = "esp";
            Format = "vfat";
            Label = "mamori-esp";
            SplitName = "-";
          }
          // fixedSize cfg.espSize;
        };
        ${partitionIds.store-verity}.repartConfig = {
          Label = label "verity";
          SplitName = "verity";
        }
        // fixedSize cfg.veritySize;
        ${partitionIds.store}.repartConfig = {
          Label = label "usr";
          SplitName = "usr";
        }
        // fixedSize cfg.usrSize;
        "30-store-verity-b".repartConfig = {
          Type = partitionType.verity;
          Label = "_empty";
          SplitName = "-";
        }
        // fixedSize cfg.veritySize;
        "40-store-b".repartConfig = {
          Type = partitionType.usr;
          Label = "_empty";
          SplitName = "-";
        }
        // fixedSize cfg.usrSize;
        "50-state".repartConfig = {
          Type = "linux-generic";
          Format = "ext4";
          Label = "mamori-state";
          SplitName = "-";
          SizeMinBytes = cfg.stateSize;
        };
      };
    };

    system.build.uki = lib.mkOverride 98 uki;
    system.build.mamoriUpdate = updatePackage;

    systemd.sysupdate = lib.mkIf mamori.update.enable {
      enable = true;
      inherit (mamori.update) timerConfig;
      # The customer's power-cycle takes the update; never reboot for it.
      reboot.enable = false;
      # Transfers run in name order: the UKI last, once both partitions exist.
      transfers = {
        "10-verity" = partitionTransfer "verity";
        "20-usr" = partitionTransfer "usr";
        "90-uki" = {
          Transfer = transfer;
          Source = source "${id}_@v.efi";
          Target = {
            Type = "regular-file";
            Path = "/EFI/Linux";
            PathRelativeTo = "boot";
            MatchPattern = [
              "${id}_@v+@l-@d.efi"
              "${id}_@v+@l.efi"
              "${id}_@v.efi"
            ];
            Mode = "0444";
            # A new UKI is on probation: systemd-boot counts its boots down,
            # systemd-bless-boot drops the counter once mamori-health passes.
            TriesLeft = mamori.update.tries;
            TriesDone = 0;
            InstancesMax = 2;
          };
        };
      };
    };

    # `Verify=true` runs gpg from systemd-pull, which finds it on PATH: the
    # 26.05-cycle systemd package no longer hard-codes gpg's store path, and
    # nixpkgs adds it only to systemd-importd and systemd-sysupdated.
    systemd.services.systemd-sysupdate.path = lib.mkIf mamori.update.enable [ pkgs.gnupg ];

    environment.etc."systemd/import-pubring.gpg" = lib.mkIf (mamori.update.signingKey != null) {
      source = mamori.update.signingKey;
    };
  };
}
