from calico2cilium.cli import main

main()
