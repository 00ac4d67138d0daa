/* FQ6 native GEMM rate in cache: ROWS COLS TOKENS [LEVEL 3=AVX-512 VBMI (packed), 2=AVX-512 VNNI, 1=AVX2]; one thread.
 * Times fq6_gemm_sums with the activation code sums given, as the JVM calls it (the quantizer returns them), and
 * fq6_gemm, which sums the codes itself. See README.md. */
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <time.h>
int fq6_gemm(const uint8_t *w, const float *sw, int groups, int bfrom, int bto, const int8_t *a, const float *sa,
             int tokens, int padded, float *y, long ystride, int lo, int hi, int rows, int32_t *partials, int level);
int fq6_gemm_sums(const uint8_t *w, const float *sw, int groups, int bfrom, int bto, const int8_t *a, const float *sa,
                  const int32_t *sums, int tokens, int padded, float *y, long ystride, int lo, int hi, int rows,
                  int32_t *partials, int level);
static double now(){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec+t.tv_nsec*1e-9;}
int main(int argc,char**argv){
  int rows=atoi(argv[1]), cols=atoi(argv[2]), tokens=atoi(argv[3]); int level=argc>4?atoi(argv[4]):2;
  int groups=(cols+127)/128, blocks=(rows+15)/16; long mbytes=(long)blocks*groups*2048;
  uint8_t *w=aligned_alloc(64,mbytes); for(long j=0;j<mbytes;j++) w[j]=level==3?rand():rand()&63; float *sw=aligned_alloc(64,blocks*groups*64); for(int j=0;j<blocks*groups*16;j++) sw[j]=1e-3f;
  int8_t *a=malloc((long)tokens*groups*128); for(long j=0;j<(long)tokens*groups*128;j++) a[j]=rand(); float *sa=malloc(4L*tokens*groups); for(int j=0;j<tokens*groups;j++) sa[j]=0.01f;
  int32_t *sums=malloc(4L*tokens*groups);
  for(int t=0;t<tokens;t++) for(int g=0;g<groups;g++){ int32_t s=0; for(int k=0;k<128;k++) s+=a[((long)t*groups+g)*128+k]; sums[t*groups+g]=s; }
  float *y=malloc(4L*rows*tokens);
  for(int withSums=1; withSums>=0; withSums--){
    int iters=0; double t0=0, t=0;
    for(int warm=1; warm>=0; warm--){
      iters=0; t0=now();
      do {
        int rc = withSums ? fq6_gemm_sums(w,sw,groups,0,blocks,a,sa,sums,tokens,groups*128,y,rows,0,rows,rows,0,level)
                          : fq6_gemm(w,sw,groups,0,blocks,a,sa,tokens,groups*128,y,rows,0,rows,rows,0,level);
        if(rc){ printf("level %d: rc %d (not supported here)\n",level,rc); return 1; }
        iters++; t=now();
      } while(t-t0<(warm?0.2:1.0));
    }
    double us=(t-t0)/iters*1e6;
    printf("%dx%d x %d tokens level %d, %s: %.0f us, %.1f GMAC/s\n",rows,cols,tokens,level,
           withSums?"code sums given (the JVM's path)":"summing the codes itself",us,(double)rows*cols*tokens/us/1e3);
  }
}
