declare _under='ok'
declare builder='/bin/sh'
declare ctrl='au0001b'
declare -a emptylist=()
declare -A emptyobj=()
declare f=
declare int=42
declare -a lst=('a' 1 1 '' )
declare name='dv-structured'
declare neg=-7
declare nul=''
declare -A obj=(['a']='x' ['b']=2 ['c d']= ['q']='it'\''s' )
declare -A outputs=(['dev']='/nix/store/izrng9ng58a8giq8p158n1insyv0z0ba-dv-structured-dev' ['out']='/nix/store/ph3vdwmrmavhyxgx69x1zi82lzrqvgdi-dv-structured' )
declare -a requiredSystemFeatures=()
declare str='it'\''s "quoted"
	tab'
declare system='x86_64-linux'
declare t=1
declare unicode='é€😀'
declare whole=2
