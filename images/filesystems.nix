# The appliance's mounts, shared with the VM tests (which must restate them
# through virtualisation.fileSystems).
{
  # Nothing of the running system is written to the root: it is rebuilt on
  # every boot from the image.
  "/" = {
    fsType = "tmpfs";
    options = [
      "mode=0755"
      "size=25%"
    ];
  };

  # The store is the dm-verity protected usr partition, mounted on /usr by the
  # initrd (usrhash= in the UKI picks the A or B slot).
  "/nix/store" = {
    device = "/usr/nix/store";
    fsType = "none";
    options = [ "bind" ];
  };

  # Needed by systemd-bless-boot and systemd-sysupdate (UKIs in /EFI/Linux).
  "/boot" = {
    device = "/dev/disk/by-partlabel/mamori-esp";
    fsType = "vfat";
    options = [
      "umask=0077"
      "noexec"
      "nosuid"
      "nodev"
    ];
  };

  # Events, keys, configuration overlays and logs. Mounted in the initrd so
  # activation already writes to it.
  "/var" = {
    device = "/dev/disk/by-partlabel/mamori-state";
    fsType = "ext4";
    neededForBoot = true;
    options = [
      "nosuid"
      "nodev"
    ];
  };
}
