from sefton_qa.cli import main

raise SystemExit(main())
