from cnimodel.cli import main

main()
