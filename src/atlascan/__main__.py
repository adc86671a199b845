from atlascan.cli import main

raise SystemExit(main())
